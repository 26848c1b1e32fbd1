"""Django's Redis cache, made to keep the portal working while Redis is down, and cheaper per call.

- Redis down: SPEC.md says activations keep working with Redis down. Everything the portal keeps in the
  cache can be done without (rate-limit counters, cached plan pages), so a connection error or timeout
  answers as a cache miss would: `get` gives the default, writes do nothing. Then, for RETRY_AFTER seconds,
  the cache answers so without trying Redis, so that a Redis that hangs costs one timeout per process rather
  than one per call; it is logged once per such pause, as an error. Failed activation attempts are not
  counted meanwhile: the price of activations going on. A refused password and every other Redis error (a
  wrong type, a bad command) are mistakes, not outages, and still raise.
- Cost: Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every call, and redis-py fills
  about 500 response callbacks into each new client: some 60 µs of CPU per call. A `redis.Redis` is
  thread-safe over its pool, so one per pool is kept.
- Counting: `count(keys, delta, timeout)` adds to several counters in one round trip, creating a missing one
  with the timeout: Django's `incr` takes two round trips per key and refuses a missing key.
"""

import functools
import logging
import time
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import AuthenticationError, AuthorizationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)

RETRY_AFTER = 5.0  # seconds the cache answers as a miss, without trying, after Redis failed to answer


def _or_miss(method: Callable[..., Any], miss: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, answering `miss(*args)` instead while Redis cannot be reached."""

    @functools.wraps(method)
    def call(self: "RedisCacheClient", *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() < self.down_until:
            return miss(*args, **kwargs)
        try:
            return method(self, *args, **kwargs)
        except (AuthenticationError, AuthorizationError):
            raise  # subclasses of ConnectionError, but a deployment's mistake: it must not pass for an outage
        except (RedisConnectionError, RedisTimeoutError) as exc:
            self.down_until = time.monotonic() + RETRY_AFTER
            logger.error("Redis cache unavailable, answering as a miss for %g s: %s", RETRY_AFTER, exc)
            return miss(*args, **kwargs)

    return call


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}
        self.down_until = 0.0  # time.monotonic() until which Redis is not tried

    def _count(self, keys: list[str], delta: int, timeout: int) -> list[int]:
        pipe = self.get_client(write=True).pipeline(transaction=False)
        for key in keys:
            pipe.incrby(key, delta)
            pipe.expire(key, timeout, nx=True)  # a counter created here lives `timeout`; others keep theirs
        return [int(value) for value in pipe.execute()[::2]]

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(id(pool))  # the pools live as long as this object: ids stay theirs
        if client is None:
            # two threads racing here each build one; either is fine, both use the same pool
            client = self._clients[id(pool)] = self._client(connection_pool=pool)  # type: ignore[attr-defined]
        return client

    base = DjangoRedisCacheClient
    add = _or_miss(base.add, lambda key, value, timeout: False)
    get = _or_miss(base.get, lambda key, default: default)
    set = _or_miss(base.set, lambda key, value, timeout: None)
    touch = _or_miss(base.touch, lambda key, timeout: False)
    delete = _or_miss(base.delete, lambda key: False)
    get_many = _or_miss(base.get_many, lambda keys: {})
    has_key = _or_miss(base.has_key, lambda key: False)
    incr = _or_miss(base.incr, lambda key, delta: delta)
    set_many = _or_miss(base.set_many, lambda data, timeout: None)
    delete_many = _or_miss(base.delete_many, lambda keys: None)
    clear = _or_miss(base.clear, lambda: False)
    count = _or_miss(_count, lambda keys, delta, timeout: None)  # None: not counted
    del base


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def count(self, keys: list[str], delta: int, timeout: int) -> list[int] | None:
        """Add `delta` to each counter, creating a missing one at 0 that expires after `timeout` seconds, in one
        round trip; the new values in order, or None while Redis cannot be reached (nothing was counted)."""
        made = [self.make_and_validate_key(key) for key in keys]
        result: list[int] | None = self._cache.count(made, delta, timeout)  # type: ignore[attr-defined]
        return result


def cache_count(keys: list[str], delta: int, timeout: int) -> list[int] | None:
    """Add `delta` to each counter of the default cache, creating a missing one at 0 that expires after
    `timeout` seconds; the new values in order, or None while Redis cannot be reached (nothing was counted)."""
    from django.core.cache import caches

    cache = caches["default"]
    if isinstance(cache, RedisCache):
        return cache.count(keys, delta, timeout)
    values = []
    for key in keys:  # another backend (local memory in development): its incr is atomic, add + incr suffices
        cache.add(key, 0, timeout)
        try:
            values.append(cache.incr(key, delta))
        except ValueError:  # expired between add and incr
            cache.set(key, delta, timeout)
            values.append(delta)
    return values
