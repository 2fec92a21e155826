"""Windowed counters in the shared cache (rate limits across processes): one Redis round trip per hit."""

from __future__ import annotations

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
        client = cache._cache.get_client(full_key, write=True)
        return _hit(client, full_key, window)
    # Other cache backends (local development without Redis): add, then increment.
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return 1


def _hit(client, full_key: str, window: int) -> int:
    return int(client.eval(_HIT, 1, full_key, int(window)))
