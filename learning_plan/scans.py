"""The doctor's scans in the accreditation portfolio (a diploma, pages of the work record book, a programme's
certificate): what a scan may be, how its document is named, and its writes.

An upload is bounded before it is parsed: its size first (as declared, then as read), then the title; only
then is its content read, and it must really be a PDF (pypdf, at most `MAX_PAGES` pages, not encrypted) or a
JPEG or PNG image (Pillow, at most `MAX_PIXELS` pixels, checked before any pixel is decoded). The browser's
content type and the file's name are not trusted: the kind of file comes from its content, and the file is
kept in the private storage under a name of our own."""

import re
import secrets
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from io import BytesIO
from typing import IO, Final

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader

from accounts.audit import audit_log
from accounts.models import User
from nmo_portal.errors import PortalError

from .models import Portfolio, PortfolioExport, PortfolioScan, private_storage
from .services import _own_portfolio, _still_editable

MAX_PAGES: Final = 200
# A scan of an A4 page at 600 dpi is 35 megapixels; past this, decoding it would take hundreds of megabytes.
MAX_PIXELS: Final = 50_000_000
TITLE_MAX_CHARS: Final = PortfolioScan._meta.get_field("title").max_length or 200

PDF: Final = "application/pdf"
JPEG: Final = "image/jpeg"
PNG: Final = "image/png"
EXTENSIONS: Final[dict[str, str]] = {PDF: "pdf", JPEG: "jpg", PNG: "png"}
_SIGNATURES: Final[dict[str, bytes]] = {PDF: b"%PDF-", JPEG: b"\xff\xd8\xff", PNG: b"\x89PNG\r\n\x1a\n"}
_PILLOW_FORMATS: Final[dict[str, str]] = {JPEG: "JPEG", PNG: "PNG"}


# Names: the export and the download name a scan's document as a person filing names it -----------------------

SCAN_NAMES: Final[dict[str, str]] = {
    PortfolioScan.Kind.DIPLOMA: "диплом",
    PortfolioScan.Kind.WORK_BOOK: "трудовая книжка",
    PortfolioScan.Kind.PROGRAMME: "удостоверение о повышении квалификации",
    PortfolioScan.Kind.OTHER: "документ",
}
SCAN_ORDER: Final[dict[str, int]] = {kind: index for index, kind in enumerate(SCAN_NAMES)}
# Characters Windows, macOS or a ZIP tool would refuse or read as a folder.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
NAME_MAX_CHARS: Final = 120


def person_name(user: User) -> str:
    """The surname and initials, as a Russian document names a person: «Иванова М.С.»."""
    initials = "".join(f"{part.strip()[0].upper()}." for part in (user.first_name, user.middle_name) if part.strip())
    surname = user.last_name.strip()
    if surname:
        return f"{surname} {initials}".strip()
    return user.full_name or user.email.split("@", 1)[0]


def safe_name(text: str) -> str:
    """`text` as a file name: no separators or characters a file system refuses, no dots or spaces at its ends."""
    cleaned = " ".join(_UNSAFE.sub(" ", text).split()).strip(" .")
    return cleaned[:NAME_MAX_CHARS].rstrip(" .")


def _default_titles(kind: str) -> set[str]:
    """The titles a scan gets when the doctor gives none: its kind's name in each language of the interface."""
    titles = set()
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            titles.add(str(PortfolioScan.Kind(kind).label).casefold())
    return titles


def ordered_scans(scans: Iterable[PortfolioScan]) -> list[PortfolioScan]:
    """Scans in the order they are filed: the diploma, the work record book, the programmes, the rest; each kind
    in the order it was uploaded."""
    return sorted(scans, key=lambda scan: (SCAN_ORDER.get(scan.kind, len(SCAN_ORDER)), scan.uploaded_at, scan.pk))


def scan_names(person: str, scans: Iterable[PortfolioScan], *, reserved: Iterable[str] = ()) -> dict[int, str]:
    """The name of each scan's document without its extension, as a person filing names it: «Иванова М.С.
    диплом», a second diploma «Иванова М.С. диплом 2». A scan of another kind is named by its title, when the
    doctor gave one. No name is one of `reserved` (the export's own documents)."""
    used = {name.casefold() for name in reserved}
    names: dict[int, str] = {}
    for scan in ordered_scans(scans):
        what = SCAN_NAMES.get(scan.kind, SCAN_NAMES[PortfolioScan.Kind.OTHER])
        if scan.kind == PortfolioScan.Kind.OTHER and scan.title.strip().casefold() not in _default_titles(scan.kind):
            what = safe_name(scan.title) or what
        base = safe_name(f"{person} {what}")
        name, number = base, 1
        while name.casefold() in used:
            number += 1
            name = f"{base} {number}"
        used.add(name.casefold())
        names[scan.pk] = name
    return names


# Reading an upload --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanContent:
    content_type: str
    data: bytes
    pages: int = 1


def read_scan(upload: IO[bytes], *, size: int | None) -> ScanContent:
    """The content of an uploaded scan, or a PortalError saying why it cannot be one. `size` is what the upload
    declares; nothing is read when it is over the limit, and no more than the limit is read in any case."""
    limit = settings.PORTFOLIO_SCAN_MAX_BYTES
    if size is not None and size > limit:
        raise _too_large(limit)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise _too_large(limit)
    content_type = next((kind for kind, head in _SIGNATURES.items() if data.startswith(head)), None)
    if content_type is None:
        raise PortalError(
            _("Only PDF files and JPEG or PNG images are accepted. Scan or save the document as one of them."),
            code="scan_type_unsupported",
        )
    if content_type == PDF:
        return ScanContent(PDF, data, pages=_check_pdf(data))
    _check_image(data, content_type)
    return ScanContent(content_type, data)


def _too_large(limit: int) -> PortalError:
    return PortalError(
        _("The file is larger than %(limit)s. Scan it at a lower resolution or split it into several files.")
        % {"limit": filesizeformat(limit)},
        code="scan_too_large",
    )


def _unreadable() -> PortalError:
    return PortalError(
        _("The file cannot be read: it may be damaged or incomplete. Save or scan it again."), code="scan_unreadable"
    )


def _check_pdf(data: bytes) -> int:
    """The number of pages of a PDF that opens, is not encrypted and has at most MAX_PAGES pages."""
    try:
        reader = PdfReader(BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise PortalError(
                _("The PDF is protected by a password. Save it without the protection and upload it again."),
                code="scan_encrypted",
            )
        pages = len(reader.pages)  # pypdf bounds the page tree it walks
        if 0 < pages <= MAX_PAGES:
            for page in reader.pages:
                _box = page.mediabox  # every page must have a size to be printed
    except PortalError:
        raise
    except Exception:  # noqa: BLE001 - whatever a malformed file makes pypdf raise, the answer is the same
        raise _unreadable() from None
    if pages == 0:
        raise _unreadable()
    if pages > MAX_PAGES:
        raise PortalError(
            ngettext(
                "The PDF has %(pages)s page, more than the %(limit)s a scan may have. Split it into several files.",
                "The PDF has %(pages)s pages, more than the %(limit)s a scan may have. Split it into several files.",
                pages,
            )
            % {"pages": pages, "limit": MAX_PAGES},
            code="scan_too_many_pages",
        )
    return pages


def _check_image(data: bytes, content_type: str) -> None:
    """A JPEG or PNG of at most MAX_PIXELS pixels, whole: the size is read from the header before any pixel is
    decoded (a decompression bomb is refused there), then the file is verified and decoded."""
    formats = [_PILLOW_FORMATS[content_type]]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(BytesIO(data), formats=formats) as image:
                width, height = image.size
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise _unreadable() from None
    if width * height > MAX_PIXELS or width < 1 or height < 1:
        raise _too_many_pixels()
    try:
        with Image.open(BytesIO(data), formats=formats) as image:
            image.verify()
        with Image.open(BytesIO(data), formats=formats) as image:
            image.load()
    except Exception:  # noqa: BLE001 - a truncated or corrupt image raises many kinds of error; all mean the same
        raise _unreadable() from None


def _too_many_pixels() -> PortalError:
    return PortalError(
        ngettext(
            "The image has more than %(megapixels)s megapixel. Scan it at a lower resolution (300 dpi is enough).",
            "The image has more than %(megapixels)s megapixels. Scan it at a lower resolution (300 dpi is enough).",
            MAX_PIXELS // 1_000_000,
        )
        % {"megapixels": MAX_PIXELS // 1_000_000},
        code="scan_too_many_pixels",
    )


def _check_title(title: str) -> str:
    title = " ".join(title.split())
    if len(title) > TITLE_MAX_CHARS or "\x00" in title:
        raise PortalError(
            ngettext(
                "The title is at most %(count)s character of text.",
                "The title is at most %(count)s characters of text.",
                TITLE_MAX_CHARS,
            )
            % {"count": TITLE_MAX_CHARS},
            code="scan_title_invalid",
        )
    return title


@transaction.atomic(durable=True)
def scan_add(*, portfolio: Portfolio, doctor: User, kind: str, title: str, uploaded_file: IO[bytes]) -> PortfolioScan:
    """Attach a scan to the portfolio: at most PORTFOLIO_MAX_SCANS of them, and none once it is filed. A refused
    file leaves nothing behind, in the database or in the storage. Without a title, the kind names it.

    Durable: the file is written to the storage before its row, so a caller's transaction rolling back after
    this returned would leave the file behind without its row; this commits on its own instead."""
    _own_portfolio(portfolio, doctor)
    if kind not in PortfolioScan.Kind.values:
        raise PortalError(_("Choose what the document is."), code="scan_kind_unknown")
    title = _check_title(title) or str(PortfolioScan.Kind(kind).label)
    size = getattr(uploaded_file, "size", None)
    if size is not None and size > settings.PORTFOLIO_SCAN_MAX_BYTES:
        raise _too_large(settings.PORTFOLIO_SCAN_MAX_BYTES)
    # Locked, so that two uploads at once cannot both take the last place, nor slip past a filing.
    portfolio = Portfolio.objects.select_for_update().get(pk=portfolio.pk)
    _still_editable(portfolio)
    if portfolio.scans.count() >= settings.PORTFOLIO_MAX_SCANS:
        raise PortalError(
            ngettext(
                "A portfolio holds at most %(count)s scan. Remove one you no longer need first.",
                "A portfolio holds at most %(count)s scans. Remove one you no longer need first.",
                settings.PORTFOLIO_MAX_SCANS,
            )
            % {"count": settings.PORTFOLIO_MAX_SCANS},
            code="scan_limit_reached",
        )
    content = read_scan(uploaded_file, size=size)
    scan = PortfolioScan(
        portfolio=portfolio, kind=kind, title=title, content_type=content.content_type, size=len(content.data)
    )
    # Through the storage as named in STORAGES now: the field's own storage was fixed when the model loaded.
    name = private_storage().save(
        f"portfolio-scans/{timezone.now():%Y/%m}/{secrets.token_urlsafe(18)}.{EXTENSIONS[content.content_type]}",
        ContentFile(content.data),
    )
    scan.file.name = name
    try:
        with transaction.atomic():
            scan.save()
            audit_log(
                actor=doctor,
                action="portfolio.scan_add",
                obj=portfolio,
                scan=scan.pk,
                kind=kind,
                content_type=content.content_type,
                size=scan.size,
            )
    except BaseException:
        private_storage().delete(name)
        raise
    return scan


@transaction.atomic
def scan_remove(*, scan: PortfolioScan, doctor: User) -> None:
    """Remove a scan and, once that is committed, its file."""
    portfolio = Portfolio.objects.select_for_update().get(pk=scan.portfolio_id)
    _own_portfolio(portfolio, doctor)
    _still_editable(portfolio)
    name = scan.file.name
    audit_log(actor=doctor, action="portfolio.scan_remove", obj=portfolio, scan=scan.pk, kind=scan.kind)
    scan.delete()
    if name:
        transaction.on_commit(lambda: private_storage().delete(name))
    # A ZIP built with the scan would still hand it out: the files for filing are prepared again without it.
    built = PortfolioExport.objects.filter(portfolio=portfolio).exclude(file="")
    stale = [export.file.name for export in built]
    built.delete()
    transaction.on_commit(lambda: _delete_files(stale))


def _delete_files(names: list[str]) -> None:
    for name in names:
        private_storage().delete(name)
