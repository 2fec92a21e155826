"""Test helpers for workflows."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from typing import Any


def run_async(scenario: Callable[[], Awaitable[Any]]) -> Any:
    """asyncio.run in a thread of its own: once a Playwright (sync API) browser exists in the session, the
    main thread has a running event loop and asyncio.run() there is refused."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(scenario())
        except BaseException as exc:  # re-raised in the test's thread
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="ws-scenario")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")
