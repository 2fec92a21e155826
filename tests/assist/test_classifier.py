"""Learned team and tags: train, apply above the admin's threshold, show below it."""

from __future__ import annotations

import itertools

import pytest
from django.test import Client

from assist import classifier
from assist.models import AssistSettings, Prediction
from tests.factories import AgentFactory, MessageFactory, TeamFactory, TicketFactory
from tickets import services
from tickets.inbound import InboundMessage

pytestmark = pytest.mark.django_db

BILLING_TEXTS = [
    "My invoice shows the wrong amount", "I was charged twice on my credit card", "Please send a copy of the invoice",
    "Refund of the duplicate payment", "The VAT on my bill is wrong", "Payment failed with my card",
    "Can I pay the invoice by bank transfer", "Why was my card charged again", "Invoice due date question",
    "Billing address on the invoice is wrong", "I need a receipt for my payment", "Charge on my statement I do not recognise",
]
SUPPORT_TEXTS = [
    "I cannot log in to my account", "Password reset link does not work", "The app crashes when I open settings",
    "Error message when uploading a file", "How do I change my password", "Login page keeps loading",
    "The mobile app shows a blank screen", "Two-factor code never arrives", "Upload fails with an error",
    "Cannot sign in after the update", "The app freezes on startup", "My account is locked after login attempts",
]


@pytest.fixture
def history():
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    for team, texts, tag in ((billing, BILLING_TEXTS, "billing"), (support, SUPPORT_TEXTS, "login")):
        for text, n in zip(itertools.cycle(texts), range(24), strict=False):
            ticket = TicketFactory(team=team, subject=text)
            MessageFactory(ticket=ticket, text=f"Hello, {text.lower()}. Ticket {n}.")
            services.set_tags(ticket=ticket, actor=None, add=[tag])
    return {"support": support, "billing": billing}


def new_ticket(text, external_id, support):
    return services.ingest(
        InboundMessage(channel="email", external_id=external_id, sender_kind="email", sender_address="new@example.org",
                       sender_name="New", subject=text, text=text, team_id=support.pk)
    ).ticket  # fmt: skip


def test_training_needs_history():
    assert classifier.train() == {"team": 0, "tags": 0}


def test_a_confident_team_and_tag_are_applied_to_a_new_ticket(history, django_capture_on_commit_callbacks):
    assert classifier.train() == {"team": 48, "tags": 48}
    AssistSettings.objects.update_or_create(pk=1, defaults={"auto_apply_threshold": 0.6})
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket("I was charged twice on my card, please refund", "<c1@example.org>", history["support"])
    ticket.refresh_from_db()
    assert ticket.team == history["billing"]
    assert "billing" in {t.name for t in ticket.tags.all()}
    assert Prediction.objects.get(ticket=ticket, kind="team").applied


def test_below_the_threshold_suggestions_are_shown_with_confidence_not_applied(history, django_capture_on_commit_callbacks):
    classifier.train()
    AssistSettings.objects.update_or_create(pk=1, defaults={"auto_apply_threshold": 0.999})
    with django_capture_on_commit_callbacks(execute=True):
        ticket = new_ticket("Password reset link does not work for my login", "<c2@example.org>", history["billing"])
    ticket.refresh_from_db()
    assert ticket.team == history["billing"]  # untouched
    prediction = Prediction.objects.get(ticket=ticket, kind="team")
    assert prediction.label == str(history["support"].pk) and not prediction.applied
    assert 0.5 < prediction.confidence < 0.999

    agent = AgentFactory(teams=[history["billing"], history["support"]])
    client = Client()
    client.force_login(agent)
    page = client.get(f"/agent/tickets/{ticket.pk}/").content.decode()
    assert "Suggested routing" in page and f"{round(prediction.confidence * 100)}%" in page

    # One click applies it.
    response = client.post(f"/assist/predictions/{prediction.pk}/accept/")
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.team == history["support"]


def test_retraining_picks_up_new_history(history):
    classifier.train()
    first = classifier.predict("my parcel tracking number")
    shipping = TeamFactory(name="Shipping")
    for n in range(12):
        ticket = TicketFactory(team=shipping, subject=f"Where is my parcel {n}")
        MessageFactory(ticket=ticket, text="The parcel tracking number shows no movement, delivery is late")
    classifier.train()
    second = classifier.predict("my parcel tracking number")
    assert next(g for g in second if g.kind == "team").label == str(shipping.pk)
    assert next(g for g in first if g.kind == "team").label != str(shipping.pk)


def test_another_teams_agent_cannot_accept_a_suggestion(history):
    classifier.train()
    ticket = TicketFactory(team=history["billing"], subject="card charged twice")
    prediction = Prediction.objects.create(ticket=ticket, kind="tags", label="billing", confidence=0.5)
    outsider = AgentFactory(teams=[history["support"]])
    client = Client()
    client.force_login(outsider)
    assert client.post(f"/assist/predictions/{prediction.pk}/accept/").status_code == 404
    assert not ticket.tags.exists()
