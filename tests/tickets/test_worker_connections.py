"""A Celery worker keeps its database session across tasks as Django keeps one across requests."""

import pytest
from celery.fixups.django import DjangoWorkerFixup
from celery.signals import task_postrun, task_prerun
from django.db import connection

from helpdesk.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def run_a_task(fixup: DjangoWorkerFixup) -> int:
    """What the worker does around one task (Celery's fixup and our handlers); the session's backend pid."""

    class Request:
        is_eager = False

    class Sender:
        request = Request()

    fixup.on_task_prerun(Sender())
    task_prerun.send(sender=Sender())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    task_postrun.send(sender=Sender())
    fixup.on_task_postrun(Sender())
    return pid


@pytest.mark.skipif(connection.vendor != "postgresql", reason="backend pids are PostgreSQL's")
def test_tasks_reuse_the_session_while_conn_max_age_allows_and_not_beyond(monkeypatch):
    fixup = DjangoWorkerFixup(app)
    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 60)
    connection.close()
    assert run_a_task(fixup) == run_a_task(fixup) == run_a_task(fixup)

    monkeypatch.setitem(connection.settings_dict, "CONN_MAX_AGE", 0)
    connection.close()
    assert run_a_task(fixup) != run_a_task(fixup)  # CONN_MAX_AGE = 0: a session per task, as configured
