"""The portal's Redis cache (nmo_portal/cache.py): an outage answers as a miss, a mistake still raises."""

import logging
import os

import pytest
from redis.exceptions import AuthenticationError, ResponseError

from nmo_portal import cache as portal_cache
from nmo_portal.cache import RedisCache

from ..conftest import in_ci

DEAD = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


def test_an_unreachable_redis_answers_as_a_miss_and_is_not_tried_again_at_once(caplog, monkeypatch):
    cache = RedisCache(DEAD, {"OPTIONS": {"socket_connect_timeout": 0.5}})
    tried = []
    real = cache._cache.get_client

    def counted(*args, **kwargs):
        tried.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(cache._cache, "get_client", counted)
    with caplog.at_level(logging.ERROR, logger="nmo_portal.cache"):
        assert cache.get("k", "default") == "default"
        assert cache.get_many(["a", "b"]) == {}
        assert cache.add("k", 1) is False
        cache.set("k", 1)
        assert cache.incr("k") == 1  # as if counted: a failed attempt is not counted, but nothing fails
    assert len(tried) == 1  # the first call failed; the others were answered without trying Redis
    assert [r.levelname for r in caplog.records] == ["ERROR"]

    monkeypatch.setattr(portal_cache.time, "monotonic", lambda: cache._cache.down_until + 1)
    assert cache.get("k", "again") == "again"
    assert len(tried) == 2  # tried again once the pause was over


@pytest.fixture
def live_cache():
    url = os.environ.get("REDIS_URL")
    if not url:
        message = "needs Redis (REDIS_URL); make test uses the local one when it answers"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    cache = RedisCache(url, {"KEY_PREFIX": "test-cache"})
    yield cache
    cache.clear()


def test_one_redis_client_serves_every_call(live_cache):
    live_cache.set("k", 1)
    assert live_cache.get("k") == 1
    assert live_cache._cache.get_client() is live_cache._cache.get_client(write=True)


def test_a_redis_error_that_is_not_an_outage_still_raises(live_cache):
    live_cache._cache.get_client(write=True).set(live_cache.make_and_validate_key("text"), "not a number")
    with pytest.raises(ResponseError):
        live_cache.incr("text")


def test_a_refused_password_is_not_taken_for_an_outage(monkeypatch):
    cache = RedisCache(DEAD, {})

    def refuse(*args, **kwargs):
        raise AuthenticationError("invalid username-password pair")

    monkeypatch.setattr(cache._cache, "get_client", refuse)
    with pytest.raises(AuthenticationError):
        cache.get("k")


def test_counting_adds_to_several_counters_at_once_and_gives_new_ones_their_lifetime(live_cache):
    assert live_cache.count(["a", "b"], 1, 60) == [1, 1]
    assert live_cache.count(["a", "b"], 1, 60) == [2, 2]
    assert live_cache.count(["a"], -1, 600) == [1]
    assert live_cache.get("a") == 1  # a counter reads as the integer it holds
    client = live_cache._cache.get_client()
    assert 0 < client.ttl(live_cache.make_and_validate_key("a")) <= 60  # the first lifetime stays


def test_counting_while_redis_is_down_counts_nothing():
    cache = RedisCache(DEAD, {"OPTIONS": {"socket_connect_timeout": 0.5}})
    assert cache.count(["a"], 1, 60) is None
