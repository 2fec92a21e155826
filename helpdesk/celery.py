"""Celery app: workers poll external channels, send outbound messages and surveys."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Celery's Django fixup closes every database connection before and after each task unless told to reuse
# them, so a worker opened a new PostgreSQL session for every task (each batch of ticket events). Connections
# are reused instead, under Django's own rules (CONN_MAX_AGE, CONN_HEALTH_CHECKS), as for a web request.
app.conf.CELERY_DB_REUSE_MAX = 1_000_000


@task_prerun.connect
@task_postrun.connect
def _database_connections_as_per_request(sender=None, **_kwargs) -> None:
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run inline by the caller (tests, eager mode): the caller's connection and transaction
    from django.db import close_old_connections

    close_old_connections()


@task_postrun.connect
def _hand_on_events(**_kwargs) -> None:
    """A task's real-time events leave its process before the task counts as done (a worker child may be
    recycled right after it; see tickets.events)."""
    from tickets import events

    events.flush(10.0)
