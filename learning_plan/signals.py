"""The plan follows what its doctors' cabinets show: ledger rows and Ministry states change below it."""

from typing import Any

from django.dispatch import receiver

from accounts.signals import doctor_records_changed

from .selectors import plan_changed


@receiver(doctor_records_changed)
def make_cached_plans_stale(sender: Any, doctor_ids: tuple[int, ...], **kwargs: Any) -> None:
    plan_changed(*doctor_ids)
