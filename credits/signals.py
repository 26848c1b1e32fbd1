"""Credits follow what identifies a doctor: module completions are credited once a confirmed СНИЛС or e-mail
names the doctor; completions and codes issued to a СНИЛС are reversed when that СНИЛС leaves the profile."""

from typing import Any

from allauth.account.signals import email_confirmed
from django.dispatch import receiver

from accounts.signals import doctor_identified, snils_released


@receiver(doctor_identified)
def credit_pending_completions(sender: Any, user: Any, **kwargs: Any) -> None:
    from .services import completions_claim

    completions_claim(user=user)


@receiver(email_confirmed)
def credit_pending_completions_by_email(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    from .services import completions_claim

    completions_claim(user=email_address.user)


@receiver(snils_released)
def reverse_what_the_snils_brought(sender: Any, user: Any, snils: str, actor: Any, **kwargs: Any) -> None:
    from .services import codes_release, completions_release

    codes_release(user=user, snils=snils, actor=actor)
    completions_release(user=user, snils=snils, actor=actor)
