"""Years of practice from the work history (accounts.selectors.practice_days / practice_years): overlapping and
touching periods count once, an open period runs up to the day practice is measured on (that day not yet
counted), a region narrows it, and whole years are counted by the calendar."""

from datetime import date

import pytest
from django.utils import translation

from accounts.selectors import Practice, practice_days, practice_years
from accounts.work import MOSCOW

from ..factories import UserFactory, WorkRecordFactory

pytestmark = pytest.mark.django_db

FAR = date(2030, 1, 1)  # a day of measurement after every closed period below


@pytest.fixture
def someone():
    return UserFactory()


def work(doctor, started_on, ended_on, **fields):
    return WorkRecordFactory(doctor=doctor, started_on=started_on, ended_on=ended_on, **fields)


def test_a_closed_period_counts_both_its_first_and_its_last_day(someone, psychiatry):
    work(someone, date(2020, 1, 1), date(2020, 1, 10))
    work(someone, date(2021, 5, 5), date(2021, 5, 5))  # one day

    assert practice_days(someone, psychiatry, until=FAR) == 11


def test_overlapping_periods_count_once(someone, psychiatry):
    work(someone, date(2020, 1, 1), date(2020, 12, 31))  # 366 days, 2020 is a leap year
    work(someone, date(2020, 7, 1), date(2021, 6, 30))  # half a year inside the first, 181 days after it
    work(someone, date(2020, 3, 1), date(2020, 3, 31))  # wholly inside the first

    assert practice_days(someone, psychiatry, until=FAR) == 366 + 181


def test_periods_sharing_a_day_count_that_day_once_and_touching_periods_count_in_full(someone, psychiatry):
    work(someone, date(2020, 1, 1), date(2020, 1, 31))
    work(someone, date(2020, 1, 31), date(2020, 2, 10))  # moved to another hospital on the same day: shared day
    work(someone, date(2020, 2, 11), date(2020, 2, 20))  # the next day: nothing shared, nothing lost

    assert practice_days(someone, psychiatry, until=FAR) == 31 + 10 + 10


def test_an_open_period_runs_up_to_the_day_before_the_day_of_measurement(someone, psychiatry):
    work(someone, date(2024, 1, 1), None)

    assert practice_days(someone, psychiatry, until=date(2024, 1, 1)) == 0  # the first day is not worked yet
    assert practice_days(someone, psychiatry, until=date(2024, 1, 2)) == 1
    assert practice_days(someone, psychiatry, until=date(2025, 1, 1)) == 366


def test_the_day_of_measurement_cuts_a_longer_closed_period_and_drops_a_later_one(someone, psychiatry):
    work(someone, date(2020, 1, 1), date(2020, 12, 31))
    work(someone, date(2021, 1, 1), date(2021, 1, 31))

    assert practice_days(someone, psychiatry, until=date(2020, 1, 11)) == 10
    assert practice_days(someone, psychiatry, until=date(2021, 1, 1)) == 366


def test_an_open_period_overlapping_closed_ones_counts_once(someone, psychiatry):
    work(someone, date(2019, 1, 1), None)
    work(someone, date(2020, 1, 1), date(2020, 6, 30))  # a second job part-time at the same time

    assert practice_days(someone, psychiatry, until=date(2021, 1, 1)) == 365 + 366


def test_other_specialties_and_other_doctors_do_not_count(someone, psychiatry, cardiology):
    work(someone, date(2020, 1, 1), date(2020, 1, 10))
    work(someone, date(2021, 1, 1), date(2021, 12, 31), specialty=cardiology)
    work(UserFactory(), date(2010, 1, 1), None)

    assert practice_days(someone, psychiatry, until=FAR) == 10
    assert practice_days(someone, cardiology, until=FAR) == 365


def test_a_region_counts_only_the_periods_at_employers_there(someone, psychiatry):
    work(someone, date(2018, 1, 1), date(2018, 12, 31), region=MOSCOW)
    work(someone, date(2018, 6, 1), date(2019, 12, 31), region="50")  # Московская область, not Moscow
    work(someone, date(2020, 1, 1), None, region=MOSCOW)

    assert practice_days(someone, psychiatry, until=date(2021, 1, 1), region=MOSCOW) == 365 + 366
    assert practice_days(someone, psychiatry, until=date(2021, 1, 1), region="50") == 214 + 365
    assert practice_days(someone, psychiatry, until=date(2021, 1, 1)) == 365 + 365 + 366


def test_without_a_day_practice_is_measured_today(someone, psychiatry):
    work(someone, date(2020, 1, 1), date(2020, 1, 31))

    assert practice_days(someone, psychiatry) == 31
    assert practice_years(someone, psychiatry) == Practice(total_days=31, years=0, months=1, days=0)


# Whole years by the calendar.


def test_five_years_from_the_first_of_march_are_reached_on_the_first_of_march_not_the_day_before(someone, psychiatry):
    work(someone, date(2021, 3, 1), None)

    day_before = practice_years(someone, psychiatry, until=date(2026, 2, 28))
    on_the_day = practice_years(someone, psychiatry, until=date(2026, 3, 1))

    assert day_before == Practice(total_days=1825, years=4, months=11, days=27)  # 4 years and 364 days
    assert day_before.total_days - 4 * 365 - 1 == 364  # four calendar years from 1.3.2021 hold 29.2.2024
    assert on_the_day == Practice(total_days=1826, years=5, months=0, days=0)


def test_a_period_ending_on_the_last_day_of_february_holds_the_full_five_years(someone, psychiatry):
    """ "To" is the last day worked: 1.3.2021–28.2.2026 is the same five years as work measured on 1.3.2026."""
    work(someone, date(2021, 3, 1), date(2026, 2, 28))

    assert practice_years(someone, psychiatry, until=FAR) == Practice(total_days=1826, years=5, months=0, days=0)


def test_one_day_short_of_five_years_is_four_years_not_five(someone, psychiatry):
    work(someone, date(2021, 3, 1), date(2026, 2, 27))

    practice = practice_years(someone, psychiatry, until=FAR)

    assert (practice.years, practice.total_days) == (4, 1825)


def test_years_are_counted_by_the_calendar_not_by_365_days(someone, psychiatry):
    """Four years from 1.1.2021 are 1461 days (2024 is a leap year): 1460 days are not yet four years, though
    1460 / 365 = 4."""
    work(someone, date(2021, 1, 1), None)

    assert practice_years(someone, psychiatry, until=date(2024, 12, 31)).years == 3  # 1460 days
    assert practice_years(someone, psychiatry, until=date(2025, 1, 1)) == Practice(1461, 4, 0, 0)


def test_the_anniversary_of_the_twenty_ninth_of_february_is_the_twenty_eighth(someone, psychiatry):
    """Civil Code art. 192, as learning_plan.portfolio dates the accreditation: a year from 29.2.2020 is reached on
    28.2.2021, and four years on 29.2.2024, which exists again."""
    work(someone, date(2020, 2, 29), None)

    assert practice_years(someone, psychiatry, until=date(2021, 2, 27)).years == 0
    assert practice_years(someone, psychiatry, until=date(2021, 2, 28)) == Practice(365, 1, 0, 0)
    assert practice_years(someone, psychiatry, until=date(2024, 2, 28)).years == 3
    assert practice_years(someone, psychiatry, until=date(2024, 2, 29)) == Practice(1461, 4, 0, 0)


def test_periods_with_a_break_are_counted_as_if_worked_without_it_from_the_first_day(someone, psychiatry):
    work(someone, date(2015, 1, 1), date(2016, 12, 31))  # 731 days (2016 is a leap year)
    work(someone, date(2019, 1, 1), date(2019, 12, 31))  # 365 days

    # 1096 days from 1.1.2015 are exactly the three calendar years to 1.1.2018
    assert practice_years(someone, psychiatry, until=FAR) == Practice(1096, 3, 0, 0)


def test_no_work_history_is_no_practice(someone, psychiatry):
    assert practice_days(someone, psychiatry, until=FAR) == 0
    assert practice_years(someone, psychiatry, until=FAR) == Practice()


@pytest.mark.parametrize(
    ("practice", "russian", "english"),
    [
        (Practice(2250, 6, 2, 0), "6 лет 2 мес.", "6 years 2 months"),
        (Practice(400, 1, 1, 4), "1 год 1 мес.", "1 year 1 month"),
        (Practice(800, 2, 0, 10), "2 года", "2 years"),
        (Practice(8000, 21, 11, 3), "21 год 11 мес.", "21 years 11 months"),
        (Practice(4000, 11, 0, 0), "11 лет", "11 years"),
        (Practice(22, 0, 0, 22), "22 дня", "22 days"),
        (Practice(1, 0, 0, 1), "1 день", "1 day"),
        (Practice(), "0 дней", "0 days"),
    ],
)
def test_practice_reads_in_years_and_months_with_russian_plurals(practice, russian, english):
    with translation.override("ru"):
        assert str(practice) == russian
    with translation.override("en"):
        assert str(practice) == english
