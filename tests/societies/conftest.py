import pytest

from accounts.models import Membership

from ..factories import MembershipFactory, OrganizationFactory, specialty


@pytest.fixture
def narcology():
    return specialty("31.08.21")


@pytest.fixture
def society(db, psychiatry, narcology):
    """A verified society responsible for psychiatry and addiction psychiatry."""
    organization = OrganizationFactory(name="Российское общество психиатров")
    organization.specialties.set([psychiatry, narcology])
    return organization


@pytest.fixture
def society_staff(society):
    return MembershipFactory(organization=society, role=Membership.Role.MEMBER).user


@pytest.fixture
def other_society(db, cardiology):
    organization = OrganizationFactory(name="Российское кардиологическое общество")
    organization.specialties.set([cardiology])
    return organization


@pytest.fixture
def other_staff(other_society):
    return MembershipFactory(organization=other_society).user
