"""Windowed counters in the shared cache (rate limits across processes): one Redis round trip per hit."""

from __future__ import annotations

import threading

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

# INCR, and start the window on the first hit: atomic, one round trip, and on every Redis version (EXPIRE's NX
# option needs Redis 7; the embedded server of `./run` is 6.2).
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return count
"""


def hit(key: str, *, window: int) -> int:
    """Count one more event under `key` and return the count; the key expires `window` seconds after its
    first hit. Atomic across processes (one server-side script on Redis)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        return int(_script(cache)(keys=[full_key], args=[int(window)]))
    # Other cache backends (local development without Redis): add, then increment.
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return 1


_scripts: dict[int, tuple[object, object]] = {}
_scripts_lock = threading.Lock()


def _script(cache: RedisCache):
    """The counting script bound to the cache's write pool, made once per pool: Django's `get_client` builds a
    new client object on every call, and a registered script runs by its SHA (EVALSHA) instead of sending
    its source every time (loaded again by redis-py if the server restarted)."""
    pool = cache._cache._get_connection_pool(write=True)
    entry = _scripts.get(id(pool))
    if entry is None or entry[0] is not pool:
        with _scripts_lock:
            client = cache._cache._client(connection_pool=pool)
            entry = _scripts[id(pool)] = (pool, client.register_script(_HIT))
    return entry[1]
