"""Extractive summaries when a long conversation changes hands."""

from __future__ import annotations

import pytest

from assist.models import Summary
from assist.summary import summarize
from tests.factories import AgentFactory, MessageFactory, TeamFactory, TicketFactory
from tickets import services
from tickets.models import Message

pytestmark = pytest.mark.django_db

CONVERSATION = [
    ("Customer", "Hello. My order 4711 arrived with a broken screen protector and the charger is missing."),
    ("Alice", "Sorry to hear that! Could you send a photo of the broken screen protector?"),
    ("Customer", "Sure, photo attached. The box was also wet."),
    ("Alice", "Thanks. I have asked the warehouse about the missing charger for order 4711."),
    ("Customer", "Ok. Will you send a new charger and a new screen protector?"),
    ("Alice", "Yes, a replacement charger and screen protector for order 4711 will ship tomorrow."),
    ("Customer", "Great, thanks."),
]


def test_summary_keeps_the_request_and_the_outcome_in_order():
    picked = summarize([{"speaker": s, "text": t} for s, t in CONVERSATION])
    assert 1 < len(picked) <= 4
    sentences = [s for _who, s in picked]
    assert "broken screen protector" in sentences[0] and picked[0][0] == "Customer"
    assert any("ship tomorrow" in s for s in sentences)
    assert all("Great, thanks" not in s for s in sentences)


def conversation(ticket, alice):
    for speaker, text in CONVERSATION:
        if speaker == "Customer":
            MessageFactory(ticket=ticket, text=text)
        else:
            MessageFactory(ticket=ticket, direction="outbound", author_contact=None, author_agent=alice, text=text)


def test_reassigning_a_long_conversation_writes_one_bot_note(django_capture_on_commit_callbacks):
    team = TeamFactory()
    alice, bob = AgentFactory(first_name="Alice", teams=[team]), AgentFactory(teams=[team])
    ticket = TicketFactory(team=team, assignee=alice)
    conversation(ticket, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=ticket, actor=alice, assignee=bob)
    note = Message.objects.get(ticket=ticket, direction="note")
    assert note.is_bot and note.author_agent is None
    assert "broken screen protector" in note.text and "Customer:" in note.text
    assert Summary.objects.get(ticket=ticket).note == note
    # Another change to the ticket does not write it again.
    with django_capture_on_commit_callbacks(execute=True):
        services.set_priority(ticket=ticket, actor=bob, priority="high")
    assert Message.objects.filter(ticket=ticket, direction="note").count() == 1


def test_first_pickup_and_short_chats_get_no_summary(django_capture_on_commit_callbacks):
    team = TeamFactory()
    alice, bob = AgentFactory(teams=[team]), AgentFactory(teams=[team])
    long_ticket = TicketFactory(team=team)
    conversation(long_ticket, alice)
    short_ticket = TicketFactory(team=team, assignee=alice)
    MessageFactory(ticket=short_ticket, text="Hi, quick question about my order.")
    with django_capture_on_commit_callbacks(execute=True):
        services.assign(ticket=long_ticket, actor=alice, assignee=alice)  # first pick-up
        services.assign(ticket=short_ticket, actor=alice, assignee=bob)
    assert not Message.objects.filter(direction="note").exists()


def test_a_team_transfer_is_summarized(django_capture_on_commit_callbacks):
    support, billing = TeamFactory(), TeamFactory()
    alice = AgentFactory(teams=[support])
    ticket = TicketFactory(team=support)
    conversation(ticket, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_team(ticket=ticket, actor=alice, team=billing)
    assert Summary.objects.filter(ticket=ticket).count() == 1


def test_a_chat_transferred_to_another_team_is_summarized_once(django_capture_on_commit_callbacks):
    """chat.assignment.transfer changes the team and unassigns in one transaction."""
    support, billing = TeamFactory(), TeamFactory()
    alice = AgentFactory(teams=[support])
    ticket = TicketFactory(team=support, assignee=alice, channel="chat")
    conversation(ticket, alice)
    with django_capture_on_commit_callbacks(execute=True):
        services.set_team(ticket=ticket, actor=alice, team=billing)
        services.assign(ticket=ticket, actor=alice, assignee=None)
    assert Message.objects.filter(ticket=ticket, direction="note", is_bot=True).count() == 1


def test_a_live_chat_transferred_to_a_colleague_gets_the_summary(django_capture_on_commit_callbacks):
    from chat.assignment import transfer
    from chat.models import ChatSession, Widget

    team = TeamFactory()
    alice, bob = AgentFactory(first_name="Alice", teams=[team]), AgentFactory(first_name="Bob", teams=[team])
    ticket = TicketFactory(team=team, assignee=alice, channel="chat")
    widget = Widget.objects.create(name="Shop", public_key="sumshop", team=team)
    ChatSession.objects.create(widget=widget, team=team, ticket=ticket, status="active", assigned_agent=alice, token_hash="t")
    conversation(ticket, alice)
    with django_capture_on_commit_callbacks(execute=True):
        transfer(agent=alice, ticket=ticket, to_agent_id=bob.pk, note="Customer needs a replacement")
    notes = list(Message.objects.filter(ticket=ticket, direction="note").order_by("id"))
    assert [n.is_bot for n in notes] == [False, True]  # chat's own transfer note, then the summary
    assert "broken screen protector" in notes[1].text
