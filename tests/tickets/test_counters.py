"""Windowed rate-limit counters shared by every process (chat budget, KB votes, login failures)."""

from __future__ import annotations

import uuid

import redis
from django.conf import settings
from django.core.cache import cache, caches

from tickets import counters


def test_hits_count_up_in_redis_and_the_window_starts_at_the_first_hit():
    key = f"counter-test:{uuid.uuid4().hex}"
    assert [counters.hit(key, window=60) for _ in range(3)] == [1, 2, 3]
    assert cache.get(key) == 3  # readable through the cache API (login limit reads it that way)
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        full_key = caches["default"].make_and_validate_key(key)
        assert 55 <= client.ttl(full_key) <= 60
        client.expire(full_key, 30)
        counters.hit(key, window=60)  # a later hit does not push the window out
        assert client.ttl(full_key) <= 30
    finally:
        client.delete(caches["default"].make_and_validate_key(key))
        client.close()


def test_without_redis_the_counter_still_counts(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "counters-test"}}
    key = f"counter-test:{uuid.uuid4().hex}"
    assert [counters.hit(key, window=60) for _ in range(3)] == [1, 2, 3]
