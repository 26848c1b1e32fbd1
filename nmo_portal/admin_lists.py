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
from functools import cached_property
from typing import Any, ClassVar

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import Promise

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
    `COUNT_CAP` + 1; `count_is_estimate` / `count_is_capped` tell the templates which of them the count is."""

    count_cap = COUNT_CAP
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
        counted = queryset.values("pk")[: self.count_cap + 1].count()
        self.count_is_capped = counted > self.count_cap
        return counted

    @cached_property
    def num_pages(self) -> int:
        """The pages of the first `count_cap` rows at most (see the module's docstring)."""
        pages = super().num_pages
        if self.count_is_estimate or self.count_is_capped:
            return min(pages, -(-self.count_cap // self.per_page))
        return pages


class BigTableAdmin:
    """Mixed into the ModelAdmin of a table of millions of rows (before the ModelAdmin in its bases): the
    counts above, no "N total" (a second full count), no facet counts. Such a list also has no `date_hierarchy`
    (it reads every row's date for its links) and no list filter that lists the rows of another big table."""

    paginator: ClassVar[type] = EstimatedCountPaginator
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER


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
