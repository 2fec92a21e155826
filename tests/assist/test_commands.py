"""Management commands, scheduled tasks and demo data of assist."""

from __future__ import annotations

import io

import pytest
from django.conf import settings
from django.core.management import call_command

from assist import demo
from assist.flows.definition import validate
from assist.models import ClassifierModel, Flow, IndexDoc
from chat.models import CannedResponse, Widget
from tests.factories import MessageFactory, TeamFactory, TicketFactory
from tickets import services

pytestmark = pytest.mark.django_db


def test_reindex_command_indexes_the_sources():
    CannedResponse.objects.create(shortcut="hi", title="Greeting", body="Hello, thanks for contacting us.")
    out = io.StringIO()
    call_command("assist_reindex", stdout=out)
    assert "indexed 1 canned responses" in out.getvalue()
    assert IndexDoc.objects.filter(source="canned").count() == 1


def test_train_command_and_schedule():
    support, billing = TeamFactory(), TeamFactory()
    for n in range(12):
        for team, text in ((support, "login password problem"), (billing, "invoice payment refund")):
            ticket = TicketFactory(team=team, subject=f"{text} {n}")
            MessageFactory(ticket=ticket, text=text)
            services.set_tags(ticket=ticket, actor=None, add=[text.split()[0]])
    out = io.StringIO()
    call_command("assist_train", stdout=out)
    assert "team classifier: 24" in out.getvalue()
    assert set(ClassifierModel.objects.values_list("kind", flat=True)) == {"team", "tags"}
    tasks = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"assist.tasks.train_classifiers", "assist.tasks.rebuild_index"} <= tasks


def test_demo_seed_adds_an_inactive_valid_flow_on_the_demo_widget():
    widget = Widget.objects.create(name="Demo", public_key="demo", team=TeamFactory())
    demo.seed(io.StringIO())
    demo.seed(io.StringIO())  # a second run adds nothing
    flow = Flow.objects.get()
    assert flow.widget_id == widget.pk and not flow.active
    assert validate(flow.live_version().definition) == []
