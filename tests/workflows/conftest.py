from __future__ import annotations

import pytest


@pytest.fixture
def eager_celery():
    """Run Celery tasks in-process for tests that follow a task end to end (retries re-run at once)."""
    from helpdesk.celery import app

    old = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, False
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = old


@pytest.fixture
def captured_events():
    """Every event published (after commit) while the test runs, as (kind, data)."""
    from tickets import events

    seen: list[tuple[str, dict]] = []

    def listener(kind, data):
        seen.append((kind, data))

    events.subscribe("*", listener)
    yield seen
    events.unsubscribe("*", listener)
