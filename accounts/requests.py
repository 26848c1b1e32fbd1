"""Who is acting in a request: the signed-in person on a page, the person or the organization's API key in the
API, and the organizations they act for."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import NotAuthenticated
from rest_framework.exceptions import PermissionDenied as ApiPermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.models import Membership, Organization, OrganizationApiKey, User
from accounts.selectors import organization_membership


def request_user(request: Request) -> User:
    """The person acting: the signed-in user, or the creator of the API key (IsAuthenticated ran first)."""
    if not isinstance(request.user, User):
        raise NotAuthenticated
    return request.user


def request_api_key(request: Request) -> OrganizationApiKey | None:
    return request.auth if isinstance(request.auth, OrganizationApiKey) else None


def require_person(request: Request, message: str | Promise) -> User:
    """What only a person does (activate a code, read their own plan, review) refuses an organization's API
    key with 403 and `message`, before anything sent is read; returns the person acting. A permission class
    refusing a whole view calls it too (raising there is how DRF shows the message)."""
    if request_api_key(request) is not None:
        raise ApiPermissionDenied(str(message))
    return request_user(request)


class IsProviderStaff(BasePermission):
    """Provider endpoints answer 403 to a person who is a member of no provider organization, before anything
    they sent is read: a doctor learns nothing from validation errors. An organization's API key passes."""

    message = gettext_lazy("Only staff of a provider organization can do this.")

    def has_permission(self, request: Request, view: object) -> bool:
        if request_api_key(request) is not None:
            return True
        return isinstance(request.user, User) and Membership.objects.filter(user=request.user).exists()


def my_organizations(request: Request) -> QuerySet[Organization]:
    """The organizations the caller acts for: the API key's own, or those the person is a member of."""
    api_key = request_api_key(request)
    if api_key is not None:
        return Organization.objects.filter(pk=api_key.organization_id)
    if not isinstance(request.user, User):  # the OpenAPI schema is built for an anonymous request
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=request.user)


def signed_in_user(request: HttpRequest) -> User:
    if not isinstance(request.user, User):
        raise DjangoPermissionDenied
    return request.user


def require_member_or_staff(request: HttpRequest, organization: Organization) -> Membership | None:
    """A provider's pages: its members see them, portal staff may look (without a membership, so None), and
    everyone else gets a 404, not a hint that the organization or its activity exists."""
    user = signed_in_user(request)
    membership = organization_membership(organization=organization, user=user)
    if membership is None and not user.is_staff:
        raise Http404
    return membership
