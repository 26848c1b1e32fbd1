"""The rows of the long tables of the learning plan and the portfolio, drawn in Python.

A doctor may have hundreds of records, and the template engine resolves every variable, filter and label of a
row again for each row: these tags give the same HTML (every value escaped as `{{ value }}` escapes it, the
labels translated once, each distinct date formatted once) in a fraction of the time. The tables' heads,
captions and empty states stay in the templates; a tag gives the `<tr>` rows alone, each with the whitespace the
template's loop had around it."""

import html
from collections.abc import Callable, Iterable
from datetime import date

from django import template
from django.utils import dateformat
from django.utils.formats import get_format, localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, pgettext

from learning_plan.education import EducationItem
from learning_plan.selectors import Record

register = template.Library()


def _escape(value: object) -> str:
    """What `{{ value }}` gives of a plain string or number: Django's `escape` (which is `html.escape`) without
    its wrapper for lazy strings, which costs more than the escaping itself, hundreds of times a table."""
    return html.escape(str(value))


def _label(message: str) -> str:
    return conditional_escape(gettext(message))


class _Cells:
    """The dates and numbers of one table as the template shows them, each distinct value formatted once."""

    def __init__(self) -> None:
        self.date_format = get_format("SHORT_DATE_FORMAT")  # of the active language
        self.dates: dict[date, str] = {}
        self.numbers: dict[int, str] = {}

    def date(self, day: date) -> str:
        """`day|date:"SHORT_DATE_FORMAT"`, escaped."""
        text = self.dates.get(day)
        if text is None:
            text = self.dates[day] = _escape(dateformat.format(day, self.date_format))
        return text

    def number(self, value: int) -> str:
        """`{{ value }}` of a number: localized, escaped."""
        text = self.numbers.get(value)
        if text is None:
            text = self.numbers[value] = _escape(localize(value))
        return text


def _sync_badge() -> Callable[[str | None], str]:
    """How far a record went to the Ministry portal, by the state of its least advanced ledger row."""
    badges = {
        "delivered": f'<span class="badge badge-success">{_label("passed on")}</span>',
        "failed": f'<span class="badge badge-danger">{_label("failed")}</span>',
        "": f'<span class="muted">{_label("not yet")}</span>',
    }
    waiting = f'<span class="badge badge-warning">{_label("waiting")}</span>'
    return lambda state: badges.get(state or "", waiting)


def _code(code: str) -> str:
    return f'<br><span class="muted mono">{_escape(code)}</span>' if code else ""


# The plan's rows (templates/learning_plan/includes/plan_body.html), as its loops drew them.


@register.simple_tag
def record_rows(records: Iterable[Record]) -> SafeString:
    """The rows of a cycle's «Counted in this cycle» table: date, activity, source with the ИКП, hours, and how
    far the record went to the Ministry portal."""
    cells, badge = _Cells(), _sync_badge()
    date_label, activity_label = _label("Date"), _label("Event, module or programme")
    source_label, hours_label, ministry_label = _label("Source"), _label("Hours"), _label("Ministry portal")
    rows = [
        f'\n      <tr data-record="{_escape(r.key)}"><td data-label="{date_label}">{cells.date(r.earned_on)}</td>'
        f'<td data-label="{activity_label}">{_escape(r.title)}</td>'
        f'<td data-label="{source_label}">{_escape(r.source)}'
        f"{_code(r.code)}</td>"
        f'<td class="num" data-label="{hours_label}" data-hours>{cells.number(r.credits)}</td>'
        f'\n        <td data-label="{ministry_label}" data-ministry>{badge(r.sync_state)}</td></tr>\n    '
        for r in records
    ]
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped above


@register.simple_tag
def not_counted_rows(records: Iterable[Record]) -> SafeString:
    """The rows of the «Credits not counted in any cycle» table, each with why it counts nowhere."""
    cells = _Cells()
    date_label, activity_label = _label("Date"), _label("Event or module")
    credits_label, why_label = _label("Credits"), _label("Why")
    rows = [
        f'<tr data-record="{_escape(r.key)}"><td data-label="{date_label}">{cells.date(r.earned_on)}</td>'
        f'<td data-label="{activity_label}">{_escape(r.title)}</td>'
        f'<td class="num" data-label="{credits_label}">{cells.number(r.credits)}</td>'
        f'<td data-label="{why_label}">{_escape(r.not_counted_reason)}</td></tr>'
        for r in records
    ]
    return mark_safe("".join(rows))  # noqa: S308 - every value escaped above


# The portfolio's «Education in the period» (templates/learning_plan/portfolio.html), as its loop drew it.


@register.simple_tag
def education_rows(items: Iterable[EducationItem]) -> SafeString:
    """Kind, title, organization, dates, hours, the document or ИКП, and where the row comes from."""
    cells = _Cells()
    kind_label, title_label, organization_label = _label("Kind"), _label("Title"), _label("Organization")
    dates_label, hours_label = _label("Dates"), _label("Hours")
    reference_label = _label("Document or ИКП")
    from_label = conditional_escape(pgettext("where a record comes from", "From"))
    kinds: dict[str, str] = {}  # each kind's and origin's name translated once, not once a row
    origins: dict[str, str] = {}

    def row(item: EducationItem) -> str:
        kind = kinds.get(item.kind)
        if kind is None:
            kind = kinds[item.kind] = _escape(item.kind_display)
        origin = origins.get(item.origin)
        if origin is None:
            origin = origins[item.origin] = _escape(item.origin_display)
        dates = cells.date(item.starts_on)
        if item.ends_on != item.starts_on:
            dates += f" — {cells.date(item.ends_on)}"
        return (
            f'\n      <tr data-origin="{_escape(item.origin)}" data-kind="{_escape(item.kind)}">'
            f'\n        <td data-label="{kind_label}">{kind}</td>'
            f'\n        <td data-label="{title_label}">{_escape(item.title)}</td>'
            f'\n        <td data-label="{organization_label}">{_escape(item.organization or "—")}</td>'
            f'\n        <td data-label="{dates_label}">{dates}</td>'
            f'\n        <td class="num" data-label="{hours_label}" data-hours>{cells.number(item.hours)}</td>'
            f'\n        <td data-label="{reference_label}" class="mono">{_escape(item.reference or "—")}</td>'
            f'\n        <td data-label="{from_label}">{origin}</td>'
            "\n      </tr>\n    "
        )

    return mark_safe("".join(row(item) for item in items))  # noqa: S308 - every value escaped in row()
