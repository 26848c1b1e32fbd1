"""The one way the portal's own e-mails are written: plain text in the recipient's language, from and signed by
the portal's name.

A message is rendered from a pair of templates, <name>_subject.txt and <name>.txt, with autoescaping off: they
are plain text, where `&quot;` is noise, not safety. The subject is folded to one line. Whoever has an account
gets their own language (User.language); a person known only by an address (an attendee, an invitee) gets the
portal's default language.
"""

from email.utils import parseaddr
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.db.models.functions import Lower
from django.template import Context, engines
from django.template.backends.django import DjangoTemplates
from django.utils import translation


def portal_name() -> str:
    """The portal's name in the active language (PORTAL_NAME, «Портал НМО» / "НМО Portal" by default)."""
    return str(settings.PORTAL_NAME)


def subject_prefix() -> str:
    return f"[{portal_name()}] "


def sender() -> str:
    """DEFAULT_FROM_EMAIL's address under the portal's name in the active language."""
    name = portal_name().replace('"', "").replace("\\", "")
    if any(char in name for char in "()<>@,;:[]."):
        name = f'"{name}"'
    # Not formataddr: it would encode the Cyrillic name here; Django encodes the header when it sends.
    return f"{name} <{parseaddr(settings.DEFAULT_FROM_EMAIL)[1]}>"


def render_text(template_name: str, context: dict[str, Any]) -> str:
    """Render a plain-text template without HTML autoescaping."""
    engine = cast(DjangoTemplates, engines["django"])
    return engine.engine.get_template(template_name).render(Context(context, autoescape=False))


def templated_message(
    *,
    to: list[str],
    template: str,
    context: dict[str, Any],
    language: str | None = None,
    connection: BaseEmailBackend | None = None,
) -> EmailMessage:
    """The message of `template` for `to`, written in `language` (the portal's default when None)."""
    context = {"site_url": settings.SITE_URL, **context}
    with translation.override(language or settings.LANGUAGE_CODE):
        context["portal_name"] = portal_name()
        subject = " ".join(render_text(f"{template}_subject.txt", context).split())
        body = render_text(f"{template}.txt", context).rstrip()
        signature = f"\n\n-- \n{portal_name()}\n{settings.SITE_URL}/\n"
        return EmailMessage(subject_prefix() + subject, body + signature, sender(), to, connection=connection)


def send_templated_mail(*, to: list[str], template: str, context: dict[str, Any], language: str | None = None) -> None:
    templated_message(to=to, template=template, context=context, language=language).send()


def recipient_languages(emails: set[str]) -> dict[str, str]:
    """The language of each address that belongs to an account, by lower-cased address; an address without an
    account is left out (its mail goes in the portal's default language)."""
    users = get_user_model().objects.annotate(address=Lower("email"))
    wanted = users.filter(address__in={email.lower() for email in emails if email})
    return dict(wanted.values_list("address", "language"))
