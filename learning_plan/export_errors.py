"""Why an export of a portfolio fails: a stable code, the title of the document it is about, and the words the
doctor reads, in their language."""

from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from nmo_portal.errors import PortalError


class ExportError(PortalError):
    """A document of the export that cannot be made: its code is stable, and `title` names the document."""

    def __init__(self, code: str, *, title: str) -> None:
        self.title = title
        super().__init__(export_error_message(code, title=title), code=code)


def export_error_message(code: str, *, title: str = "") -> str:
    """Why an export failed, for the doctor, in the current language."""
    limit = filesizeformat(settings.PORTFOLIO_PDF_MAX_BYTES)
    messages = {
        "export_scan_too_large": _(
            "The scan «%(title)s» cannot be made smaller than %(limit)s, even compressed. Scan it again at a lower "
            "resolution or split it into several files, replace it, and prepare the files again."
        ),
        "export_scan_unreadable": _(
            "The scan «%(title)s» could not be read. Remove it, upload it again, and prepare the files again."
        ),
        "export_scan_missing": _(
            "The file of the scan «%(title)s» is missing. Remove it, upload it again, and prepare the files again."
        ),
        "export_document_too_large": _(
            "The document «%(title)s» would be larger than %(limit)s. Shorten it and prepare the files again."
        ),
        "export_interrupted": _("Preparing the files was interrupted. Prepare them again."),
    }
    message = messages.get(code, _("The files could not be prepared. Try again later."))
    return message % {"title": title, "limit": limit} if "%(" in message else message
