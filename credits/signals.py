"""Module completions reported before a doctor could be identified are credited once they can be."""

from typing import Any

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from accounts.signals import doctor_identified


@receiver(doctor_identified)
def credit_pending_completions(sender: Any, user: Any, **kwargs: Any) -> None:
    from .services import completions_claim

    completions_claim(user=user)


@receiver(email_confirmed)
def credit_pending_completions_by_email(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    from .services import completions_claim

    completions_claim(user=email_address.user)
