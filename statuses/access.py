"""Who may act on the doctor's side of the status programmes: the pages and the API ask the same question."""

from django.contrib.auth.models import AnonymousUser

from accounts.models import DoctorProfile, User


def is_doctor(user: User | AnonymousUser) -> bool:
    """A doctor as the navigation counts one (accounts.selectors.user_roles): a doctor's profile with a СНИЛС."""
    if not isinstance(user, User):
        return False
    return DoctorProfile.objects.filter(user=user, snils__isnull=False).exists()
