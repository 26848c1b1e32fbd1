"""Reads of the Ministry sync that pages need."""

from datetime import datetime

from accounts.models import User

from .models import MinistryLink


def ministry_linked(doctor: User) -> bool:
    """Whether the doctor's Ministry account is linked: only then can its records be read."""
    return MinistryLink.objects.filter(doctor=doctor, state=MinistryLink.State.LINKED).exists()


def held_records_read_at(doctor: User) -> datetime | None:
    """When the records the Ministry holds for the doctor were last read; None if never (or not linked)."""
    return (
        MinistryLink.objects.filter(doctor=doctor, state=MinistryLink.State.LINKED)
        .values_list("records_read_at", flat=True)
        .first()
    )
