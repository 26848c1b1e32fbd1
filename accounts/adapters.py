from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.http import HttpRequest
from django.utils import translation

from nmo_portal.mail import portal_name, sender, subject_prefix


@dataclass(frozen=True)
class PortalSite:
    """What allauth's e-mails call the site: the portal's name, not the host the request came to."""

    name: str
    domain: str


class AccountAdapter(DefaultAccountAdapter):  # type: ignore[misc]
    """Sends allauth's mail in the recipient's language, not the language of whoever triggered it, under the
    portal's name (nmo_portal.mail). A person without an account yet is the one asking (sign-up, a reset for an
    unknown address), so their page's language is kept."""

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
