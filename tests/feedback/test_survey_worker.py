"""The survey link goes out after SURVEY_DELAY_SECONDS, by a real Celery worker on the real Redis broker,
only for surveys still unanswered."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings

from feedback.models import Survey
from helpdesk.celery import app as celery_app
from tests.conftest import ROOT, _database_url
from tests.factories import AgentFactory, ContactFactory, TicketFactory
from tickets.events import publish

DELAY = 2


@pytest.fixture
def worker(tmp_path: Path):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    with celery_app.connection_for_write() as conn:
        conn.default_channel.queue_purge(queue)  # tasks left by other tests point at rows that are gone
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "HELPDESK_TESTING": "1",
        "VAR_DIR": str(tmp_path),  # outgoing mail lands in tmp_path/outbox
        "EMAIL_URL": "",
        "SECRET_KEY": settings.SECRET_KEY,  # the worker must decrypt the contact's address
        "FIELD_ENCRYPTION_KEYS": ",".join(settings.FIELD_ENCRYPTION_KEYS),
    }
    log = tmp_path / "worker.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "worker", "-Q", queue, "--pool=solo", "-l", "info", "--without-gossip", "--without-mingle", "--without-heartbeat"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.time() + 60
    while "ready" not in log.read_text(errors="replace"):
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            raise RuntimeError("celery worker did not start:\n" + log.read_text(errors="replace"))
        time.sleep(0.2)
    yield tmp_path, log
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def wait_for(predicate, timeout: float = 60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not met in time")


@pytest.mark.django_db(transaction=True)
def test_unanswered_survey_link_is_emailed_after_the_delay(worker, settings):
    outbox_dir, log = worker
    settings.SURVEY_DELAY_SECONDS = DELAY
    agent = AgentFactory()
    left = TicketFactory(channel="chat", assignee=agent, contact=ContactFactory(email="left@example.org"))
    stayed = TicketFactory(channel="chat", assignee=agent, contact=ContactFactory(email="stayed@example.org"))

    publish("chat.ended", groups=(), frame=None, data={"ticket_id": left.pk, "session_id": 1, "agent_id": agent.pk})
    publish("chat.ended", groups=(), frame=None, data={"ticket_id": stayed.pk, "session_id": 2, "agent_id": agent.pk})
    answered = Survey.objects.get(ticket=stayed)
    answered_url = answered.url
    from feedback.services import answer_survey

    answer_survey(token=answered.token, rating=5)  # answered in the widget before the delay ran out

    pending = wait_for(lambda: Survey.objects.filter(ticket=left, link_sent_at__isnull=False).first())
    assert pending.link_sent_via == "email"
    assert (pending.link_sent_at - pending.sent_at).total_seconds() >= DELAY
    wait_for(lambda: log.read_text(errors="replace").count("succeeded") >= 2)

    mails = [p.read_text(errors="replace") for p in (outbox_dir / "outbox").glob("*")]
    assert len(mails) == 1
    assert "left@example.org" in mails[0] and pending.url in mails[0]
    assert answered_url not in mails[0]
    answered.refresh_from_db()
    assert answered.link_sent_at is None
