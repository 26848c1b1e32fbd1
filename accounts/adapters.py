from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import translation

from .signin import SigninRefused, signin_authenticate


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Sends allauth's mail in the recipient's language, not the language of whoever triggered it, and checks
    passwords under the portal's sign-in limits (accounts.signin) instead of allauth's per-account one."""

    def authenticate(self, request: HttpRequest, **credentials: Any) -> AbstractBaseUser | None:
        # sign-in and re-authentication alike; allauth's "login_failed" limit is off in settings
        login = str(credentials.get("email") or credentials.get("username") or "")
        try:
            user: AbstractBaseUser | None = signin_authenticate(
                request=request,
                login=login,
                authenticate=lambda: super(AccountAdapter, self).authenticate(request, **credentials),
            )
        except SigninRefused as exc:
            raise ValidationError(str(exc.message), code=exc.code) from exc
        return user

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        user = context.get("user")
        language = getattr(user, "language", None) or translation.get_language()
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True
