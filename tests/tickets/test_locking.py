"""`lock_tickets`: one statement that locks a batch's tickets and loads what their announcements show."""

import threading

import pytest
from django.db import connection, connections, transaction
from django.db.utils import OperationalError

from tests.factories import AgentFactory, ContactFactory, TeamFactory, TicketFactory
from tickets.locking import lock_tickets
from tickets.models import Tag, Ticket
from tickets.representations import ticket_dict


def as_orm_loads_it(pk: int) -> Ticket:
    return Ticket.objects.select_related("team", "assignee", "contact").prefetch_related("tags").get(pk=pk)


@pytest.mark.django_db
def test_locked_tickets_carry_the_same_data_as_the_orm_loads():
    team = TeamFactory(name="Billing")
    agent = AgentFactory(first_name="Ada", last_name="Lovelace", teams=[team])
    tagged = TicketFactory(team=team, assignee=agent, contact=ContactFactory(name="Åsa Öberg", email="asa@example.se", phone="+46701234567"))
    tagged.tags.set([Tag.objects.create(name="vip"), Tag.objects.create(name="billing")])
    bare = TicketFactory(team=None)

    with transaction.atomic():
        locked = lock_tickets([bare.pk, tagged.pk, 999_999, tagged.pk])

    assert [t.pk for t in locked] == sorted([bare.pk, tagged.pk])  # id order, each once, missing ids skipped
    for ticket in locked:
        expected = as_orm_loads_it(ticket.pk)
        assert ticket_dict(ticket) == ticket_dict(expected)
        for field in Ticket._meta.concrete_fields:
            assert getattr(ticket, field.attname) == getattr(expected, field.attname), field.name
    by_pk = {t.pk: t for t in locked}
    assert ticket_dict(by_pk[tagged.pk])["tags"] == ["billing", "vip"]
    contact = by_pk[tagged.pk].contact
    assert (contact.name, contact.email, contact.phone) == ("Åsa Öberg", "asa@example.se", "+46701234567")  # decrypted
    assert by_pk[tagged.pk].assignee.email == agent.email  # a field not loaded up front still reads right
    assert by_pk[bare.pk].team is None and by_pk[bare.pk].assignee is None


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks as PostgreSQL takes them")
def test_the_rows_stay_locked_until_the_transaction_ends():
    ticket = TicketFactory()
    outcome = {}

    def other_session() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT id FROM tickets_ticket WHERE id = %s FOR UPDATE NOWAIT", [ticket.pk])
                outcome["locked_out"] = False
        except OperationalError:
            outcome["locked_out"] = True
        finally:
            connections.close_all()

    with transaction.atomic():
        assert [t.pk for t in lock_tickets([ticket.pk])] == [ticket.pk]
        thread = threading.Thread(target=other_session)
        thread.start()
        thread.join()
    assert outcome == {"locked_out": True}


@pytest.mark.django_db
def test_get_by_pk_reads_a_row_as_the_orm_does():
    from chat.models import ChatSession
    from tests.chat.conftest import WidgetFactory
    from tickets.rows import get_by_pk

    session = ChatSession.objects.create(
        token_hash="t" * 64, widget=WidgetFactory(), name="Vera Visitor", email="vera@example.org", passed_by=[3, 4], locale="fi"
    )
    loaded, expected = get_by_pk(ChatSession, session.pk), ChatSession.objects.get(pk=session.pk)
    for field in ChatSession._meta.concrete_fields:
        assert getattr(loaded, field.attname) == getattr(expected, field.attname), field.name
    assert (loaded.name, loaded.email, loaded.passed_by) == ("Vera Visitor", "vera@example.org", [3, 4])
    loaded.status = "ended"
    loaded.save(update_fields=["status"])  # a normal instance: it saves like one
    assert ChatSession.objects.get(pk=session.pk).status == "ended"
    with pytest.raises(ChatSession.DoesNotExist):
        get_by_pk(ChatSession, 10**9)
