"""Module completions follow what identifies a doctor: they are credited once a confirmed СНИЛС or e-mail names
the doctor, and reversed when that СНИЛС leaves the profile."""

from typing import Any

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from accounts.signals import doctor_identified, snils_released

from .services import completions_claim, completions_release


@receiver(doctor_identified)
def credit_pending_completions(sender: Any, user: Any, **kwargs: Any) -> None:
    completions_claim(user=user)


@receiver(email_confirmed)
def credit_pending_completions_by_email(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    completions_claim(user=email_address.user)


@receiver(snils_released)
def reverse_completions_of_released_snils(sender: Any, user: Any, snils: str, actor: Any, **kwargs: Any) -> None:
    completions_release(user=user, snils=snils, actor=actor)
