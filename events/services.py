"""Rules of the review workflow that only events have; review.services applies them through the kind's
registration (events/apps.py)."""

from datetime import timedelta

from django.conf import settings
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from nmo_portal.calendar import today
from review.models import Activity

from .models import Event


def event_submission_problems(activity: Activity) -> list[str]:
    """An event is submitted in time for the experts to judge it, and asks for no more credits a day than allowed."""
    assert isinstance(activity, Event)  # noqa: S101 - registered for the event kind only
    problems = []
    lead = settings.EVENT_SUBMISSION_LEAD_DAYS
    # The event's own days: what day it is where the event is held, whatever the provider's zone.
    if activity.start_date < today(activity.timezone) + timedelta(days=lead):
        problems.append(
            ngettext(
                "An event is submitted at least %(days)d day before it starts; this one starts on %(date)s.",
                "An event is submitted at least %(days)d days before it starts; this one starts on %(date)s.",
                lead,
            )
            % {"days": lead, "date": date_format(activity.start_date)}
        )
    limit = settings.MAX_CREDITS_PER_EVENT_DAY * activity.days
    if activity.credits_requested > limit:
        problems.append(
            _("An event of %(days)s may request %(limit)s (%(per_day)d per day); this one requests %(credits)d.")
            % {
                "days": ngettext("%(days)d calendar day", "%(days)d calendar days", activity.days)
                % {"days": activity.days},
                "limit": ngettext("at most %(limit)d credit", "at most %(limit)d credits", limit) % {"limit": limit},
                "per_day": settings.MAX_CREDITS_PER_EVENT_DAY,
                "credits": activity.credits_requested,
            }
        )
    return problems
