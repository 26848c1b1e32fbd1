"""Codes follow what identifies a doctor: the codes a СНИЛС brought are reversed when it leaves the profile."""

from typing import Any

from django.dispatch import receiver

from accounts.signals import snils_released

from .services import codes_release


@receiver(snils_released)
def reverse_codes_of_released_snils(sender: Any, user: Any, snils: str, actor: Any, **kwargs: Any) -> None:
    codes_release(user=user, snils=snils, actor=actor)
