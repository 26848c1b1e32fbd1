"""Sign-in limits: one rule for the site's sign-in (allauth, through accounts.adapters) and the admin's
(accounts.forms.AdminLoginForm).

Failed passwords are counted in the cache, in fixed windows of SIGNIN_WINDOW_SECONDS, twice:
- per client address and account together (SIGNIN_FAILURES_PER_IP_ACCOUNT, 5 in 15 minutes): guessing one
  account's password from one address is slow;
- per client address (SIGNIN_FAILURES_PER_IP, 30 in 15 minutes), across accounts: so is trying one password
  on many accounts.
There is deliberately no counter per account alone: that is what lets a stranger lock the owner out (allauth's
own "login_failed" limit counts per account, and refuses even the right password). The owner, from an address
that has not used up its own allowance, signs in while the account is attacked from elsewhere. This is
django-axes' AXES_LOCKOUT_PARAMETERS = [["ip_address", "username"], "ip_address"]; axes was not taken because it
has one failure limit for every parameter, counts in the database, and resets the counters on a right password
(AXES_RESET_ON_SUCCESS), which lets an attacker who owns one account wipe the address's count between guesses.

Increment, then compare, as codes.ratelimit does: an attempt takes a slot in both counters before the password
is checked, and is refused unchecked if that takes a counter past its limit (so a burst gets exactly the
allowance, and a refusal says nothing about the password). A right password gives its own slots back and resets
nothing; a refused attempt gives them back too, so refusals do not lengthen a lock. While Redis is down nothing
is counted (nmo_portal.cache): signing in goes on, unlimited, and that is logged.
"""

import hashlib
import ipaddress
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from nmo_portal.cache import cache_count
from nmo_portal.calendar import moment_text
from nmo_portal.errors import PortalError
from nmo_portal.middleware import client_ip

logger = logging.getLogger(__name__)

U = TypeVar("U")


class SigninRefused(PortalError):
    code = "too_many_signin_failures"
    status = 429

    def __init__(self, retry_at: datetime) -> None:
        when = moment_text(retry_at)
        super().__init__(
            _("Too many failed sign-in attempts from your address. Try again after %(time)s.") % {"time": when}
        )
        self.retry_at = retry_at


def _address(ip: str | None) -> str:
    """The client as the limits count it: an IPv4 address, or an IPv6 /64, the block one subscriber is given
    (counting single IPv6 addresses would hand each attacker 2^64 allowances)."""
    try:
        address = ipaddress.ip_address(ip or "")
    except ValueError:
        return "unknown"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/64", strict=False))
    return str(address)


def _counters(*, ip: str, login: str, start: int) -> list[tuple[str, int]]:
    # The account as typed, normalised and hashed: unknown e-mails count too (no hint of which exist), and
    # the key stays short and free of characters a cache key must not hold.
    account = hashlib.sha256(login.strip().lower().encode()).hexdigest()[:32]
    return [
        (f"signin-fail:ip:{ip}:{start}", settings.SIGNIN_FAILURES_PER_IP),
        (f"signin-fail:ip-account:{ip}:{account}:{start}", settings.SIGNIN_FAILURES_PER_IP_ACCOUNT),
    ]


def signin_authenticate(*, request: HttpRequest | None, login: str, authenticate: Callable[[], U | None]) -> U | None:
    """`authenticate()` (which checks the password and answers the user or None) under the sign-in limits.
    Raises SigninRefused, without calling it, when this address has failed too often, for this account or
    in all."""
    ip = _address(client_ip(request) if request is not None else None)
    size = settings.SIGNIN_WINDOW_SECONDS
    start = int(timezone.now().timestamp()) // size * size
    counters = _counters(ip=ip, login=login, start=start)
    keys = [key for key, _limit in counters]
    timeout = size + 60
    values = cache_count(keys, 1, timeout)
    if values is None:
        logger.warning("Sign-in limits not applied to a sign-in from %s: the cache cannot count.", ip)
        return authenticate()
    if any(value > limit for value, (_key, limit) in zip(values, counters, strict=True)):
        cache_count(keys, -1, timeout)
        logger.warning("Sign-in refused: too many failures from %s.", ip)
        raise SigninRefused(datetime.fromtimestamp(start + size, tz=UTC))
    user = None
    try:
        user = authenticate()
        return user
    finally:
        if user is not None:
            cache_count(keys, -1, timeout)  # a right password counts for nothing, and resets nothing
