"""The register's calendar: which day a moment falls on, and in which time zone.

The register keeps its time in `settings.TIME_ZONE` (Europe/Moscow): a module completion sent without a zone
is in it, and so is the day such a completion is earned. An event's calendar days are those of its own zone
(`Event.timezone`): the day cap, the date a code's credit is earned, the dates on its certificates and hence
the cycle a credit counts in. The zone a viewer chose changes how moments are shown, never which day they
fall on, so nothing here reads the active time zone.
"""

import zoneinfo
from calendar import monthrange
from datetime import date, datetime
from functools import cache
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# The years a date in the register can mean: a completion in the year 731, or an event in 9999 (whose offset
# overflows Python's datetime on the way to UTC), is refused, never stored nor a 500.
EARLIEST_YEAR, LATEST_YEAR = 2000, 2099


def within_register_years(day: date) -> bool:
    return EARLIEST_YEAR <= day.year <= LATEST_YEAR


def register_zone_name() -> str:
    """The register's own zone, by its IANA name (also the default zone of a new event)."""
    return str(settings.TIME_ZONE)


def register_zone() -> ZoneInfo:
    return ZoneInfo(register_zone_name())  # ZoneInfo keeps one instance per name


def zone(name: str | ZoneInfo | None = None) -> ZoneInfo:
    """The zone of that name; the register's zone when none is given."""
    if isinstance(name, ZoneInfo):
        return name
    return ZoneInfo(name) if name else register_zone()


def local_date(moment: datetime, in_zone: str | ZoneInfo | None = None) -> date:
    """The calendar day `moment` falls on in `in_zone` (the register's zone by default)."""
    return timezone.localtime(moment, zone(in_zone)).date()


def today(in_zone: str | ZoneInfo | None = None) -> date:
    return local_date(timezone.now(), in_zone)


def add_months(day: date, months: int) -> date:
    """The same day so many months later (or earlier, when negative); where that month has no such day, its last
    day, as the Civil Code's article 192 ends a term: 29 February 2024 plus a year is 28 February 2025."""
    index = day.year * 12 + day.month - 1 + months
    year, month = index // 12, index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def make_local(moment: datetime, in_zone: str | ZoneInfo | None = None) -> datetime:
    """A time read without an offset is a wall-clock time in `in_zone`; one with an offset means what it says."""
    if timezone.is_aware(moment):
        return moment
    return timezone.make_aware(moment, zone(in_zone))


@cache
def _known_zones() -> frozenset[str]:
    # Region/City names only, as the profile offers them: no bare abbreviations such as "EST" or "UTC".
    return frozenset(name for name in zoneinfo.available_timezones() if "/" in name)


def validate_time_zone(value: str) -> None:
    """An IANA zone name the tz database knows (Europe/Moscow, Asia/Vladivostok)."""
    if value not in _known_zones():
        raise ValidationError(
            _("«%(value)s» is not a time zone; give an IANA name such as Europe/Moscow."),
            code="invalid_time_zone",
            params={"value": value},
        )


def moment_text(moment: datetime) -> str:
    """A moment as the viewer reads it, with the zone named («27 ноября 2026 г. 14:45 (Europe/Moscow)»): an event
    far east ends at another hour in Moscow, and a sentence ending in the time does not end in «p.m..»."""
    from django.utils import formats

    shown = formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return f"{shown} ({timezone.get_current_timezone_name()})"
