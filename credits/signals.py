"""Module completions reported before a doctor could be identified are credited once they can be; and
activation checks a doctor's profile again once their e-mail addresses or profile change."""

from typing import Any

from allauth.account.models import EmailAddress
from allauth.account.signals import email_confirmed
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from accounts.models import DoctorProfile
from accounts.signals import doctor_identified


@receiver(doctor_identified)
def credit_pending_completions(sender: Any, user: Any, **kwargs: Any) -> None:
    from .services import completions_claim

    completions_claim(user=user)


@receiver(email_confirmed)
def credit_pending_completions_by_email(sender: Any, request: Any, email_address: Any, **kwargs: Any) -> None:
    from .services import completions_claim

    completions_claim(user=email_address.user)


@receiver([post_save, post_delete], sender=EmailAddress)
@receiver([post_save, post_delete], sender=DoctorProfile)
def recheck_profile_at_activation(sender: Any, instance: Any, **kwargs: Any) -> None:
    from .services import profile_ready_forget

    profile_ready_forget(instance.user_id)
