"""What the portfolio page's partials on scans and the export need beside `p`: the upload form, the scans, and
the export asked for last. Tags, so that the page's own view need not know what its partials show."""

from dataclasses import dataclass

from django import template
from django.conf import settings

from learning_plan.export import ExportStatus, export_ready, export_status
from learning_plan.forms import ScanForm
from learning_plan.models import Portfolio, PortfolioExport, PortfolioScan
from learning_plan.scans import MAX_PAGES, ordered_scans

register = template.Library()


@dataclass(frozen=True)
class ScansBox:
    scans: list[PortfolioScan]
    form: ScanForm
    editable: bool
    room: int
    max_bytes: int
    max_pages: int = MAX_PAGES


@dataclass(frozen=True)
class ExportBox:
    status: ExportStatus | None
    ready: PortfolioExport | None


def _editable(portfolio: Portfolio) -> bool:
    return portfolio.filing not in (Portfolio.Filing.FILED, Portfolio.Filing.ACCREDITED)


@register.simple_tag
def portfolio_scans(portfolio: Portfolio | None) -> ScansBox | None:
    """The portfolio's scans in the order they are filed, the upload form, whether it may change and how many
    more scans it takes."""
    if portfolio is None:
        return None
    scans = ordered_scans(portfolio.scans.all())
    return ScansBox(
        scans=scans,
        form=ScanForm(auto_id=f"scan-{portfolio.pk}-%s"),
        editable=_editable(portfolio),
        room=max(settings.PORTFOLIO_MAX_SCANS - len(scans), 0),
        max_bytes=settings.PORTFOLIO_SCAN_MAX_BYTES,
    )


@register.simple_tag
def portfolio_export(portfolio: Portfolio | None) -> ExportBox | None:
    """The export asked for last, and the ZIP built last (downloadable while a new one is built)."""
    if portfolio is None:
        return None
    return ExportBox(status=export_status(portfolio), ready=export_ready(portfolio))


@register.filter
def scan_format(content_type: str) -> str:
    return {"application/pdf": "PDF", "image/jpeg": "JPEG", "image/png": "PNG"}.get(content_type, content_type)
