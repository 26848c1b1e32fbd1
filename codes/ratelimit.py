"""Counting failed code activations per account and per IP, in the cache (Redis in production).

Fixed windows: a person locked out is told the exact time the window ends. The counters live in the
cache rather than the database so that an evening of activations does not queue behind counter rows.

Increment, then compare: an attempt takes a slot in each counter before it is evaluated, and is refused
if that takes a counter past its limit; an attempt that did not fail gives its slots back. A check first
and a count after would let every request of a burst pass the check before the first failure is counted
(64 at once let 17 failures through a limit of 10); this way exactly `limit` failures are evaluated per
window. While Redis is down nothing is counted (nmo_portal.cache): activations go on, unlimited.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.conf import settings
from django.utils import timezone

from nmo_portal.cache import cache_count


@dataclass(frozen=True)
class Counter:
    name: str
    limit: int


def _window(now: datetime) -> tuple[int, datetime]:
    size = settings.ICP_ATTEMPT_WINDOW_SECONDS
    start = int(now.timestamp()) // size * size
    return start, datetime.fromtimestamp(start + size, tz=UTC)


def counters(*, user_id: int, ip: str | None) -> list[Counter]:
    found = [Counter(f"icp-fail:user:{user_id}", settings.ICP_FAILED_ATTEMPTS_PER_ACCOUNT)]
    if ip:
        found.append(Counter(f"icp-fail:ip:{ip}", settings.ICP_FAILED_ATTEMPTS_PER_IP))
    return found


def _count(keys: list[str], delta: int) -> list[int] | None:
    """Add `delta` to each counter; the new values, or None when nothing could be counted."""
    return cache_count(keys, delta, settings.ICP_ATTEMPT_WINDOW_SECONDS + 60)


@dataclass
class Attempt:
    """One activation attempt's slots in the counters of the current window."""

    keys: list[str] = field(default_factory=list)  # the slots taken; empty once given back or never taken
    retry_at: datetime | None = None  # set when the attempt is refused: when the window ends
    failed: bool = False

    def fail(self) -> None:
        """The attempt failed in a way that counts toward the limits: its slots stay taken."""
        self.failed = True

    def finish(self) -> None:
        """Give the slots back unless the attempt failed."""
        if self.keys and not self.failed:
            _count(self.keys, -1)
        self.keys = []


def attempt_start(*, user_id: int, ip: str | None) -> Attempt:
    """Take a slot in each counter. The attempt is refused (`retry_at` set, nothing kept) if a counter is
    past its limit; otherwise the caller evaluates it and then calls `fail()` or not, and `finish()`."""
    items = counters(user_id=user_id, ip=ip)
    start, end = _window(timezone.now())
    keys = [f"{item.name}:{start}" for item in items]
    values = _count(keys, 1)
    if values is None:
        return Attempt()
    attempt = Attempt(keys=keys)
    if any(value > item.limit for value, item in zip(values, items, strict=True)):
        # a refused request evaluates nothing: its slots go back, so a locked IP does not use up the
        # account's own allowance (and the counters keep counting failures, not refusals)
        attempt.finish()
        attempt.retry_at = end
    return attempt
