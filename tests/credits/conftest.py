from datetime import timedelta

import pytest
from django.utils import timezone

from credits.codes import generate_codes
from credits.models import IcpCode

from ..factories import EventFactory, MembershipFactory


@pytest.fixture
def ended_event(db, psychiatry):
    """An approved psychiatry event of 2 days that ended yesterday, 12 credits."""
    ends = timezone.now() - timedelta(days=1)
    return EventFactory(
        organization=MembershipFactory().organization,
        approved=True,
        starts_at=ends - timedelta(days=1, hours=8),
        ends_at=ends,
        hours=16,
        credits_requested=12,
        specialties=[psychiatry],
    )


@pytest.fixture
def make_codes():
    def make(event, n=1, **fields):
        return [IcpCode.objects.create(code=code, event=event, **fields) for code in generate_codes(n)]

    return make


@pytest.fixture
def ended_event_factory(psychiatry):
    def make():
        ends = timezone.now() - timedelta(days=1)
        event = EventFactory(
            organization=MembershipFactory().organization,
            approved=True,
            starts_at=ends - timedelta(hours=8),
            ends_at=ends,
            hours=8,
            credits_requested=6,
            specialties=[psychiatry],
        )
        return event, IcpCode.objects.create(code=generate_codes(1)[0], event=event)

    return make
