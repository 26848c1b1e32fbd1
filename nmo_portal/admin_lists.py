"""Admin change lists of tables with millions of rows (codes, the ledger, the outbox, users, the audit log).

Django's change list counts the rows it lists with an exact `COUNT(*)`, and a second time over the whole table
for "N total"; on 15 million ledger rows each count reads the whole table. Here the unfiltered list takes
PostgreSQL's own estimate of the table's size (`pg_class.reltuples`, kept by ANALYZE and autovacuum), and a
filtered or searched list counts at most `COUNT_CAP` + 1 rows, so that a count never grows with the table.
The page says so: "about 15,000,000", "more than 10,000" (templates/admin/pagination.html, search_form.html,
actions.html). Pages beyond the counted ones are not offered: an OFFSET of millions is a scan of millions, and
an administrator narrows the list by a filter or a search instead.

The searches of these lists are narrowed to what an index answers (an exact code or number, an e-mail's or a
surname's beginning); the helpers below tell which kind of term was typed.
"""

import re
import uuid
from functools import cache, cached_property
from typing import Any, ClassVar
from urllib.parse import parse_qsl

from django.contrib import admin
from django.contrib.admin import helpers
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.templatetags.static import static
from django.utils.functional import Promise
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext
from django_stubs_ext import StrOrPromise

# How many rows a filtered list counts at most: "more than 10,000" is all an administrator needs to know.
COUNT_CAP = 10_000


def estimated_rows(queryset: QuerySet[Any]) -> int:
    """PostgreSQL's estimate of the rows of the queryset's table; -1 when it has none (never analyzed) and on
    other databases."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return -1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else -1


class EstimatedCountPaginator(Paginator[Any]):
    """Counts the unfiltered list by the table's estimate (when it is past the cap) and a filtered one up to
    `COUNT_CAP` + 1; `count_is_estimate` / `count_is_capped` tell the templates which of them the count is.
    `count_in_order` False counts the rows in no order (see BigTableAdmin.search_count_in_order)."""

    count_cap = COUNT_CAP
    count_in_order = True
    count_is_estimate = False
    count_is_capped = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        if not queryset.query.where:
            estimate = estimated_rows(queryset)
            if estimate > self.count_cap:
                self.count_is_estimate = True
                return estimate
        # SELECT COUNT(*) FROM (SELECT id … ORDER BY <the list's order> LIMIT 10001): the count stops at the cap,
        # and reads the rows in the list's order, the path the planner already takes for the page (an index of
        # that order, or the few rows a search finds, sorted), not a scan of the table that stops at the cap.
        rows = queryset if self.count_in_order else queryset.order_by()
        counted = rows.values("pk")[: self.count_cap + 1].count()
        self.count_is_capped = counted > self.count_cap
        return counted

    @cached_property
    def num_pages(self) -> int:
        """The pages of the first `count_cap` rows at most (see the module's docstring)."""
        pages = super().num_pages
        if self.count_is_estimate or self.count_is_capped:
            return min(pages, -(-self.count_cap // self.per_page))
        return pages


class BigTableChangeList(ChangeList):
    """The change list of a big table: the filters an administrator came with (kept in each row's link, so that
    saving returns to the same list) are encoded once per page, not parsed and resolved again for every row as
    Django's `add_preserved_filters` does (a third of a millisecond a row)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # what add_preserved_filters would append to a row's change link, computed once; the rows' own call to
        # it then has nothing left to add (nothing else reads the change list's preserved_filters)
        self.result_link_query = urlencode(dict(parse_qsl(self.preserved_filters))) if self.preserved_filters else ""
        self.preserved_filters = ""

    def url_for_result(self, result: Model) -> str:
        url = super().url_for_result(result)
        return f"{url}?{self.result_link_query}" if self.result_link_query else url


class BigTableAdmin:
    """Mixed into the ModelAdmin of a table of millions of rows (before the ModelAdmin in its bases): the
    counts above, no "N total" (a second full count), no facet counts. Such a list also has no `date_hierarchy`
    (it reads every row's date for its links) and no list filter that lists the rows of another big table.

    A page holds 50 rows (drawing a row costs 0.1-0.3 ms, its SQL next to nothing), each drawn without what
    Django's change list spends per row for nothing new: the action's checkbox is written directly rather than
    rendered through the form widgets' templates (a quarter of a millisecond a row), the row's link is built as
    BigTableChangeList says, and a boolean column may be drawn by `boolean_column`."""

    paginator: ClassVar[type] = EstimatedCountPaginator
    list_per_page = 50
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    # False where the search's own indexes find its rows and a term may match thousands (a common surname among
    # the users): counted in the list's order, every match is read and sorted before the cap applies; in no
    # order the count stops at the cap. Filters alone keep the order (an index of it answers them in order).
    search_count_in_order = True

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return BigTableChangeList

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Any],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> Paginator[Any]:
        paginator: Paginator[Any] = self.paginator(queryset, per_page, orphans, allow_empty_first_page)
        if isinstance(paginator, EstimatedCountPaginator) and request.GET.get(SEARCH_VAR, "").strip():
            paginator.count_in_order = self.search_count_in_order
        return paginator

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))  # Django's own
    def action_checkbox(self, obj: Model) -> SafeString:
        """The same input as Django's (the admin's actions.js selects rows by its class)."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )


ICONS = {True: "yes", False: "no", None: "unknown"}


@cache
def _boolean_icon(value: bool | None) -> SafeString:
    """Django's own icon of a boolean (contrib.admin's `_boolean_icon`), made once per value."""
    return format_html('<img src="{}" alt="{}">', static(f"admin/img/icon-{ICONS[value]}.svg"), value)


def boolean_column(field_name: str, description: StrOrPromise) -> Any:
    """A list_display column of a boolean field, drawn as Django draws one (its yes / no icon) but with the icon's
    HTML made once, not looked up in the static files' manifest for every row. Assigned in a ModelAdmin's body."""

    @admin.display(description=description, ordering=field_name)
    def column(model_admin: Any, obj: Model) -> SafeString:
        return _boolean_icon(getattr(obj, field_name))

    column.__name__ = f"{field_name}_icon"
    return column


class TypedFilter(admin.SimpleListFilter):
    """A sidebar filter the administrator types into: tens of thousands of events or organizations cannot be a
    list of links. Django has no autocomplete list filter; a plain GET form needs no script (the admin runs under
    the same Content-Security-Policy as the portal)."""

    template = "admin/typed_filter.html"
    placeholder: str | Promise = ""

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Any:
        # The template's form keeps every other filter of the list as a hidden field.
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "placeholder": self.placeholder,
            "others": [(name, value) for name, value in changelist.params.items() if name != self.parameter_name],
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }


# What a search term looks like -------------------------------------------------------------------------------

SNILS_SHAPE = re.compile(r"\d{3}[- ]?\d{3}[- ]?\d{3}[- ]?\d{2}")


def snils_typed(term: str) -> str | None:
    """The 11 digits of a СНИЛС as people type it («123-456-789 01», «12345678901»), or None."""
    term = term.strip()
    return re.sub(r"\D", "", term) if SNILS_SHAPE.fullmatch(term) else None


def uuid_typed(term: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(term.strip())
    except ValueError:
        return None
