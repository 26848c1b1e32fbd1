"""The doctor's scans as PDFs of at most PORTFOLIO_PDF_MAX_BYTES, for the portfolio's export. An image scan is
converted to a PDF page and compressed (JPEG quality, then resolution, step by step) until it fits; a scanned
PDF over the limit has its images re-encoded the same way and its content streams compressed. A scan that cannot
fit is an ExportError naming it."""

import logging
from io import BytesIO
from typing import Final

from django.conf import settings
from PIL import Image, ImageOps
from pypdf import PdfReader, PdfWriter

from .export_errors import ExportError
from .models import PortfolioScan, private_storage
from .scans import MAX_PIXELS

logger = logging.getLogger("learning_plan.export")  # where the export's warnings have always been logged

# (the longest side in pixels, JPEG quality): tried in order until the PDF fits. 3508 px is the long side of A4
# at 300 dpi, 2480 at about 210, 1754 at 150, 1240 at about 105 dpi: still legible for a printed page.
COMPRESSION_STEPS: Final = (
    (3508, 85),
    (3508, 70),
    (2480, 70),
    (2480, 55),
    (1754, 55),
    (1754, 40),
    (1240, 40),
    (1240, 25),
)
A4_INCHES: Final = (8.27, 11.69)
ORIENTATION: Final = 0x0112  # the EXIF tag; 1 is upright


def _flat(image: Image.Image) -> Image.Image:
    """The image in a mode a JPEG holds, transparency laid on white: a scan on paper has no transparency."""
    if image.mode in ("RGB", "L"):
        return image
    if image.mode in ("I", "I;16", "I;16B", "I;16L", "F"):
        return image.point(lambda value: value / 256).convert("L")
    if image.mode == "1":
        return image.convert("L")
    if image.mode in ("RGBA", "LA", "PA", "P", "RGBa", "La"):
        rgba = image.convert("RGBA")
        page = Image.new("RGB", rgba.size, "white")
        page.paste(rgba, mask=rgba.getchannel("A"))
        return page
    return image.convert("RGB")


def _page_dpi(width: int, height: int) -> float:
    """The resolution at which an image of so many pixels fills an A4 sheet (portrait or landscape, as it is)."""
    short, long = A4_INCHES
    sheet = (long, short) if width > height else (short, long)
    return max(width / sheet[0], height / sheet[1])


def _image_page(image: Image.Image, quality: int) -> bytes:
    """One page holding the image, re-encoded as a JPEG of `quality`, at the size of an A4 sheet."""
    buffer = BytesIO()
    dpi = _page_dpi(image.width, image.height)
    image.save(buffer, "PDF", quality=quality, resolution=dpi, creator="НМО Portal", producer="НМО Portal")
    return buffer.getvalue()


def _jpeg_page(jpeg: bytes, *, width: int, height: int, grey: bool) -> bytes:
    """One page holding a JPEG as it is, at the size of an A4 sheet: PDF's DCTDecode filter reads JPEG data
    unchanged, so a scan that already fits loses nothing to a second encoding (img2pdf's approach). Pillow's PDF
    writer always encodes again, and reportlab's would grow the data by a quarter with ASCII85."""
    dpi = _page_dpi(width, height)
    page_width, page_height = width * 72 / dpi, height * 72 / dpi
    drawing = f"q {page_width:.3f} 0 0 {page_height:.3f} 0 0 cm /Im0 Do Q".encode()
    image = (
        f"<< /Type /XObject /Subtype /Image /Width {width} /Height {height} "
        f"/ColorSpace /{'DeviceGray' if grey else 'DeviceRGB'} /BitsPerComponent 8 /Filter /DCTDecode "
        f"/Length {len(jpeg)} >>\nstream\n"
    ).encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {page_width:.3f} {page_height:.3f}] "
        f"/Resources << /XObject << /Im0 4 0 R >> >> /Contents 5 0 R >>".encode(),
        image + jpeg + b"\nendstream",
        f"<< /Length {len(drawing)} >>\nstream\n".encode() + drawing + b"\nendstream",
        b"<< /Creator (NMO Portal) /Producer (NMO Portal) >>",
    ]
    pdf = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(pdf))
        pdf += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(pdf)
    pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    pdf += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    pdf += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n".encode()
    pdf += f"startxref\n{xref}\n%%EOF\n".encode()
    return bytes(pdf)


def image_pdf(data: bytes, *, limit: int) -> bytes | None:
    """A JPEG or PNG scan as a one-page PDF of at most `limit` bytes, or None when even the last step is larger.
    A JPEG that fits goes in as it is; anything else is encoded step by step, smaller each time."""
    with Image.open(BytesIO(data), formats=["JPEG", "PNG"]) as source:
        if source.width * source.height > MAX_PIXELS:
            return None
        upright = source.getexif().get(ORIENTATION, 1) == 1
        if source.format == "JPEG" and source.mode in ("RGB", "L") and upright:
            pdf = _jpeg_page(data, width=source.width, height=source.height, grey=source.mode == "L")
            if len(pdf) <= limit:
                return pdf
        image = _flat(ImageOps.exif_transpose(source))
        image.load()
    for side, quality in COMPRESSION_STEPS:
        step = image.copy()
        step.thumbnail((side, side), Image.Resampling.LANCZOS)
        pdf = _image_page(step, quality)
        if len(pdf) <= limit:
            return pdf
    return None


def _recompressed(data: bytes, *, side: int, quality: int) -> tuple[bytes, int]:
    """The PDF with its images re-encoded as JPEG of at most `side` pixels a side where that makes them smaller,
    its content streams compressed and identical objects stored once; and the number of images it holds."""
    writer = PdfWriter(clone_from=PdfReader(BytesIO(data), strict=False))
    images = 0
    for page in writer.pages:
        for found in page.images:
            images += 1
            if found.image is None or found.indirect_reference is None:
                continue
            picture = _flat(found.image)
            picture.thumbnail((side, side), Image.Resampling.LANCZOS)
            encoded = BytesIO()
            picture.save(encoded, "JPEG", quality=quality)
            if len(encoded.getvalue()) < len(found.data):
                found.replace(picture, quality=quality)
        page.compress_content_streams()
    writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    buffer = BytesIO()
    writer.write(buffer)
    return buffer.getvalue(), images


def pdf_within(data: bytes, *, limit: int) -> bytes | None:
    """A scanned PDF as it is when it fits, else recompressed step by step; None when it cannot be made to fit."""
    if len(data) <= limit:
        return data
    for side, quality in COMPRESSION_STEPS:
        try:
            smaller, images = _recompressed(data, side=side, quality=quality)
        except Exception:  # a PDF pypdf cannot rewrite is one it cannot make smaller
            logger.warning("Could not recompress a scanned PDF", exc_info=True)
            return None
        if len(smaller) <= limit:
            return smaller
        if not images:  # text and drawings only: the next step would make the same file
            return None
    return None


def scan_pdf(scan: PortfolioScan, *, limit: int) -> bytes:
    """The scan as a PDF of at most `limit` bytes, or ExportError naming it."""
    try:
        with private_storage().open(scan.file.name, "rb") as file:
            data = file.read(settings.PORTFOLIO_SCAN_MAX_BYTES + 1)
    except FileNotFoundError:
        raise ExportError("export_scan_missing", title=scan.title) from None
    try:
        pdf = pdf_within(data, limit=limit) if data.startswith(b"%PDF-") else image_pdf(data, limit=limit)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise ExportError("export_scan_unreadable", title=scan.title) from None
    if pdf is None:
        raise ExportError("export_scan_too_large", title=scan.title)
    return pdf
