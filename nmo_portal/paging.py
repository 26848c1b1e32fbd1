"""Pages of a public list that may hold tens of thousands of rows (the catalogue's 58,000 approved events).

Django's paginator counts the whole list (`COUNT(*)` over every matching row) to print "page 3 of 2,900" and to
know whether there is a next page: at national scale that count was half the catalogue's time. Here the list is
counted up to `COUNT_CAP` + 1 rows, so the count never grows with the table: a list of at most `COUNT_CAP` rows
is counted exactly and paged as before ("12 found", "page 1 of 1"); a longer one says "more than 1,000 found"
and "page 3", and whether there is a next page is told by reading one row past the page. Every page stays
reachable by its number (`?page=N`, as bookmarked); a number past the end shows the last page, as Django's
`get_page` does, and only then is the list counted in full to find it.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

# "More than 1,000 found" is all a person needs to know of a longer list; 1,001 rows are read at most to tell.
COUNT_CAP = 1_000
# Far past any list's end, and within the OFFSET a database takes (a 64-bit integer).
MAX_OFFSET = 2**40


@dataclass(frozen=True)
class CappedPage:
    """One page of the list: its rows, its number, and the list's count (`count_is_capped`: more than `count`)."""

    object_list: list[Any]
    number: int
    has_next: bool
    count: int
    count_is_capped: bool
    per_page: int

    def __iter__(self) -> Iterator[Any]:
        return iter(self.object_list)

    def __len__(self) -> int:
        return len(self.object_list)

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_other_pages(self) -> bool:
        return self.has_previous or self.has_next

    @property
    def previous_page_number(self) -> int:
        return self.number - 1

    @property
    def next_page_number(self) -> int:
        return self.number + 1

    @property
    def num_pages(self) -> int | None:
        """The number of pages when the list was counted exactly; None when it is longer than the cap."""
        if self.count_is_capped:
            return None
        return max(1, -(-self.count // self.per_page))


def _page_number(value: Any) -> int:
    """The page asked for: 1 when it is missing, not a number or below 1 (as Django's `get_page`)."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        return 1
    return max(number, 1)


def capped_page(queryset: QuerySet[Any], page: Any, *, per_page: int = 20, cap: int | None = None) -> CappedPage:
    """The page `page` (the raw `?page=` value) of `queryset`, which must be ordered: two or three queries (the
    capped count, the page's rows, and their prefetches), and one more only for a page number past the end.
    `cap`: `COUNT_CAP` unless given."""
    cap = COUNT_CAP if cap is None else cap
    # SELECT COUNT(*) FROM (SELECT id … LIMIT 1001), in no order: the planner takes the cheapest way to the rows a
    # filter finds (the specialty's links, the search's GIN index). In the list's order it would walk the order's
    # index until 1,001 rows passed the filter: 13,000 events for a specialty's thousand, the whole table when
    # fewer match. (The admin's lists of millions, nmo_portal.admin_lists, count in their order: their filters
    # could otherwise become a scan of a table that stops at the cap; a catalogue has 60,000 rows.)
    counted = queryset.order_by().values("pk")[: cap + 1].count()
    number = _page_number(page)
    if counted <= cap:
        last = max(1, -(-counted // per_page))
        number = min(number, last)
        start = (number - 1) * per_page
        rows = list(queryset[start : start + per_page])
        return CappedPage(rows, number, number < last, counted, False, per_page)
    # More rows than the cap: the page is read with one row past it, which tells whether a next page exists. A page
    # within the counted rows always has rows; past them the list may end first, and a page past its end is answered
    # by the last page, for which the list is counted in full (only then). A number too large for an OFFSET is such
    # a page too, without asking.
    start = (number - 1) * per_page
    rows = list(queryset[start : start + per_page + 1]) if start <= MAX_OFFSET else []
    if not rows:
        number = max(1, -(-queryset.count() // per_page))
        start = (number - 1) * per_page
        rows = list(queryset[start : start + per_page])
    return CappedPage(rows[:per_page], number, len(rows) > per_page, cap, True, per_page)
