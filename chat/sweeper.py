"""Offer timeouts: each web process with chat sockets checks for expired offers every second.

The rows are claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, so several processes never move the same offer
twice; the Celery beat entry in `schedule.py` covers a process with no sockets at all.
"""

from __future__ import annotations

import asyncio
import logging

from channels.db import database_sync_to_async

from . import conf

log = logging.getLogger(__name__)

_task: asyncio.Task | None = None


def ensure_sweeper() -> None:
    global _task
    if _task is None or _task.done():
        _task = asyncio.ensure_future(_sweep_forever())


async def _sweep_forever() -> None:
    from .assignment import expire_offers

    while True:
        await asyncio.sleep(max(0.2, min(1.0, conf.offer_timeout() / 5)))
        try:
            await database_sync_to_async(expire_offers)()
        except Exception:
            log.exception("expiring chat offers failed")
