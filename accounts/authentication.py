"""`Authorization: Api-Key <key>` for providers' own systems."""

import hmac

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from .models import Membership, OrganizationApiKey, User, hash_token


class ApiKeyAuthentication(authentication.BaseAuthentication):
    """Authenticates as the member who created the key, scoped to the key's organization (request.auth).

    The key stops working when it is revoked or when its creator is no longer an administrator there.
    """

    keyword = "Api-Key"

    def authenticate(self, request: Request) -> tuple[User, OrganizationApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header.startswith(self.keyword + " "):
            return None
        key = header[len(self.keyword) + 1 :].strip()
        prefix = OrganizationApiKey.prefix_of(key)
        api_key = (
            OrganizationApiKey.objects.active()
            .select_related("organization", "created_by")
            .filter(prefix=prefix)
            .first()
            if prefix
            else None
        )
        if api_key is None or not hmac.compare_digest(api_key.key_hash, hash_token(key)):
            raise exceptions.AuthenticationFailed(_("The API key is not valid or has been revoked."))
        creator = api_key.created_by
        if (
            creator is None
            or not creator.is_active
            or not Membership.objects.filter(
                organization=api_key.organization, user=creator, role=Membership.Role.ADMIN
            ).exists()
        ):
            raise exceptions.AuthenticationFailed(_("The API key's owner no longer administers the organization."))
        if api_key.last_used_at is None or (timezone.now() - api_key.last_used_at).total_seconds() > 60:
            OrganizationApiKey.objects.filter(pk=api_key.pk).update(last_used_at=timezone.now())
        return creator, api_key

    def authenticate_header(self, request: Request) -> str:
        return self.keyword
