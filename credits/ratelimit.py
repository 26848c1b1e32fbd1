"""Counting failed code activations per account and per IP, in the cache (Redis in production).

Fixed windows: a person locked out is told the exact time the window ends. The counters live in the
cache rather than the database so that an evening of activations does not queue behind counter rows.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


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


def blocked_until(items: list[Counter]) -> datetime | None:
    """When the caller may try again, if any counter is exhausted in the current window."""
    now = timezone.now()
    start, end = _window(now)
    values = cache.get_many([f"{item.name}:{start}" for item in items])
    for item in items:
        if values.get(f"{item.name}:{start}", 0) >= item.limit:
            return end
    return None


def record_failure(items: list[Counter]) -> None:
    start, _end = _window(timezone.now())
    timeout = settings.ICP_ATTEMPT_WINDOW_SECONDS + 60
    for item in items:
        key = f"{item.name}:{start}"
        cache.add(key, 0, timeout)
        try:
            cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout)
