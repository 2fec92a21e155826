"""Login rate limit (CONTRACT: 10 failures per username or IP in 15 minutes), counted in the cache (Redis)."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from . import counters


def client_ip(request) -> str:
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def _keys(username: str, ip: str) -> list[str]:
    # Hashed: usernames and addresses are not written to Redis in clear.
    def h(value: str) -> str:
        return hashlib.sha256(value.lower().encode()).hexdigest()[:32]

    return [f"login-fail:u:{h(username)}", f"login-fail:ip:{h(ip)}"]


def is_locked(username: str, ip: str) -> bool:
    limit, _window = settings.LOGIN_RATE_LIMIT
    counts = cache.get_many(_keys(username, ip))
    return any(int(v) >= limit for v in counts.values())


def record_failure(username: str, ip: str) -> None:
    _limit, window = settings.LOGIN_RATE_LIMIT
    for key in _keys(username, ip):
        counters.hit(key, window=window)


def record_success(username: str) -> None:
    cache.delete(_keys(username, "")[0])
