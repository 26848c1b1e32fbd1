from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import translation

from nmo_portal.mail import portal_name, sender, subject_prefix

from .signin import SigninRefused, signin_authenticate


@dataclass(frozen=True)
class PortalSite:
    """What allauth's e-mails call the site: the portal's name, not the host the request came to."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Sends allauth's mail in the recipient's language, not the language of whoever triggered it, under the
    portal's name (nmo_portal.mail); a person without an account yet is the one asking (sign-up, a reset for an
    unknown address), so their page's language is kept. Checks passwords under the portal's sign-in limits
    (accounts.signin) instead of allauth's per-account one."""

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
            site = PortalSite(name=portal_name(), domain=urlsplit(settings.SITE_URL).netloc)
            super().send_mail(template_prefix, email, {"current_site": site, **context})

    def format_email_subject(self, subject: str) -> str:
        return subject_prefix() + " ".join(str(subject).split())

    def get_from_email(self) -> str:
        return sender()

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return True
