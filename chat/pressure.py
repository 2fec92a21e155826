"""How busy this process's event loop is, so best-effort work (typing previews) backs off under load.

A background task sleeps 100 ms at a time and measures how late it wakes up. When the loop lags, drafts are
coalesced over a longer interval: messages, which are the record, keep the CPU; an agent still sees the
latest draft, just less often.
"""

from __future__ import annotations

import asyncio
import time

TICK = 0.1
_lag = 0.0
_task: asyncio.Task | None = None


def ensure_monitor() -> None:
    global _task
    if _task is None or _task.done():
        _task = asyncio.ensure_future(_measure())


def lag_seconds() -> float:
    return _lag


def stretched(interval: float, *, ceiling: float = 3.0) -> float:
    """`interval` scaled by the current loop lag: x1 when idle, up to `ceiling` seconds when saturated."""
    return min(ceiling, interval * (1.0 + _lag / 0.02))


async def _measure() -> None:
    global _lag
    while True:
        start = time.monotonic()
        await asyncio.sleep(TICK)
        late = max(0.0, time.monotonic() - start - TICK)
        _lag = 0.7 * _lag + 0.3 * late  # smoothed: one slow tick does not throttle everyone
