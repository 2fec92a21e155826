"""The Redis cache backend with one connection pool per process.

Django keeps one cache object per thread and, under ASGI, per async context: every websocket consumer gets
its own `RedisCache`, and each of those opened its own connection pool. A daphne process with 1,000 visitor
sockets then opened a Redis connection per visitor on their first rate-limited message (a TCP connect inside
the message's path) and kept 1,000 connections open. Here every cache object of the process shares one
client (redis-py's pools are thread-safe and reset themselves after a fork).
"""

from __future__ import annotations

import threading
from typing import Any

from django.core.cache.backends.redis import RedisCache
from django.utils.functional import cached_property

_clients: dict[tuple, Any] = {}
_lock = threading.Lock()


class SharedRedisCache(RedisCache):
    @cached_property
    def _cache(self):
        key = (self._class, tuple(self._servers), repr(sorted(self._options.items())))
        with _lock:
            client = _clients.get(key)
            if client is None:
                client = _clients[key] = self._class(self._servers, **self._options)
        return client
