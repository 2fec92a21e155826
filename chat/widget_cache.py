"""Allowed domains of widgets, cached in-process for a few seconds for the origin check.

Every visitor socket's handshake checks its origin on the one thread Channels shares for database work; a
reconnect storm after a restart would otherwise queue thousands of identical queries there and time out
handshakes. Only widgets that exist are cached (a new widget works at once); domain edits show within the TTL.
"""

from __future__ import annotations

import threading
import time

from . import conf
from .models import Widget

_cache: dict[str, tuple[float, list[str]]] = {}
_lock = threading.Lock()


def allowed_domains(public_key: str) -> list[str] | None:
    """The widget's allowed domains, or None when no widget has this key."""
    now = time.monotonic()
    with _lock:
        hit = _cache.get(public_key)
    if hit is not None and now - hit[0] < conf.widget_cache_seconds():
        return hit[1]
    domains = Widget.objects.filter(public_key=public_key).values_list("allowed_domains", flat=True).first()
    if domains is None:
        return None
    domains = [str(d) for d in domains] if isinstance(domains, list) else []
    with _lock:
        if len(_cache) > 10_000:
            _cache.clear()
        _cache[public_key] = (now, domains)
    return domains


def forget(public_key: str | None = None) -> None:
    with _lock:
        if public_key is None:
            _cache.clear()
        else:
            _cache.pop(public_key, None)
