"""Chat settings, read from Django settings when defined there, else from the environment."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

_read: dict[tuple[str, float], float] = {}  # read once per process (typing drafts ask for theirs per frame)


@receiver(setting_changed)
def _forget(**_kwargs) -> None:
    _read.clear()


def _number(name: str, default: float) -> float:
    key = (name, default)
    if key not in _read:
        _read[key] = _parse(name, default)
    return _read[key]


def _parse(name: str, default: float) -> float:
    value = getattr(settings, name, None)
    if value is None:
        value = os.environ.get(name, "")
    try:
        return float(value) if value != "" else default
    except (TypeError, ValueError):
        return default


def offer_timeout() -> float:
    """Seconds an agent has to accept an offered chat before it moves on (issue: 30 s)."""
    return _number("CHAT_OFFER_TIMEOUT_SECONDS", 30.0)


def visitor_message_limit() -> tuple[int, int]:
    """Messages one visitor may send per window (all their tabs together), and the window in seconds."""
    return int(_number("CHAT_VISITOR_MESSAGES", 30)), int(_number("CHAT_VISITOR_WINDOW_SECONDS", 60))


def typing_interval() -> float:
    """Server-side coalescing: at most one typing preview per visitor socket per this many seconds (stretched
    further while the process is busy, see chat.pressure)."""
    return _number("CHAT_TYPING_INTERVAL_SECONDS", 0.5)


def widget_cache_seconds() -> float:
    """How long a process trusts its copy of a widget (admin edits show within this time)."""
    return _number("CHAT_WIDGET_CACHE_SECONDS", 10.0)


def db_threads() -> int:
    """Threads (each with its own database connection) that run visitor messages in one server process.
    Messages submitted at the same moment share a transaction (`tickets.services.ingest_grouped`), so more
    threads mean bigger batches under load, at one PostgreSQL connection each."""
    return max(1, int(_number("CHAT_DB_THREADS", 6)))


MAX_FRAME_BYTES = 64 * 1024
MAX_TEXT_CHARS = 10_000
HISTORY_LIMIT = 200
