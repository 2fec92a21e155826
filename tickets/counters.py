"""Windowed counters in the shared cache (rate limits across processes): one Redis round trip per hit."""

from __future__ import annotations

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache


def hit(key: str, *, window: int) -> int:
    """Count one more event under `key` and return the count; the key expires `window` seconds after its
    first hit. Atomic across processes (INCR + EXPIRE NX in one pipeline on Redis)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        full_key = cache.make_and_validate_key(key)
        client = cache._cache.get_client(full_key, write=True)
        pipe = client.pipeline()
        pipe.incr(full_key)
        pipe.expire(full_key, window, nx=True)
        count, _set = pipe.execute()
        return int(count)
    # Other cache backends (local development without Redis): add, then increment.
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.set(key, 1, timeout=window)
        return 1
