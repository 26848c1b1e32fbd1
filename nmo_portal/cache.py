"""Django's Redis cache, made to keep the portal working while Redis is down, and cheaper per call.

- Redis down: SPEC.md says activations keep working with Redis down. Everything the portal keeps in the
  cache can be done without (rate-limit counters, the remembered profile check, cached plan pages), so a
  connection error or timeout is logged and the call answers as a cache miss would: `get` gives the default,
  writes do nothing. Failed-attempt limits are not counted while Redis is down; that is the price of
  activations going on. Other Redis errors (a wrong type, a bad command) are bugs and still raise.
- Cost: Django's `RedisCacheClient.get_client` builds a new `redis.Redis` on every call, and redis-py fills
  about 500 response callbacks into each new client: some 60 µs of CPU per call, paid three times by every
  code activation. A `redis.Redis` is thread-safe over its pool, so one per pool is kept.
"""

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

logger = logging.getLogger(__name__)


def _or_miss(method: Callable[..., Any], miss: Callable[..., Any]) -> Callable[..., Any]:
    """`method`, answering `miss(*args)` instead when Redis cannot be reached."""

    @functools.wraps(method)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError) as exc:
            logger.warning("Cache unavailable, %s answered as a miss: %s", method.__name__, exc)
            return miss(*args, **kwargs)

    return call


class RedisCacheClient(DjangoRedisCacheClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

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
    del base


class RedisCache(DjangoRedisCache):
    def __init__(self, server: Any, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
