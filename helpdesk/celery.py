"""Celery app: workers poll external channels, send outbound messages and surveys."""

import os

from celery import Celery
from celery.signals import task_postrun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")

app = Celery("helpdesk")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_postrun.connect
def _hand_on_events(**_kwargs) -> None:
    """A task's real-time events leave its process before the task counts as done (a worker child may be
    recycled right after it; see tickets.events)."""
    from tickets import events

    events.flush(10.0)
