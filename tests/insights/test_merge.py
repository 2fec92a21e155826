"""Two contacts found to be the same person become one: tickets, identities, messages and notes follow."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from insights.models import ContactMerge, ContactNote
from insights.services import MergeError, merge_contacts
from tests.factories import AgentFactory, ContactFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.models import Contact, ContactIdentity, Ticket
from tickets.services import resolve_contact

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    team = TeamFactory()
    agent = AgentFactory(teams=[team])
    email_contact = ContactFactory(name="Maija Virtanen", email="maija@example.org", attributes={"plan": "pro", "city": "Oulu"})
    phone_contact = ContactFactory(name="", email="", phone="+358401234567", attributes={"plan": "free", "vip": True})
    ContactIdentity.objects.create(contact=phone_contact, kind="phone", address="+358401234567")
    email_ticket = TicketFactory(contact=email_contact, team=team, channel="email")
    sms_ticket = TicketFactory(contact=phone_contact, team=team, channel="sms")
    message = MessageFactory(ticket=sms_ticket)
    ContactNote.objects.create(contact=phone_contact, author=agent, text="Prefers SMS")
    return {"team": team, "agent": agent, "keep": email_contact, "dup": phone_contact, "email_ticket": email_ticket, "sms_ticket": sms_ticket, "message": message}


def test_merge_moves_everything_to_the_kept_contact(pair):
    keep = merge_contacts(source=pair["dup"], target=pair["keep"], actor=pair["agent"])
    assert set(Ticket.objects.filter(contact=keep).values_list("pk", flat=True)) == {pair["email_ticket"].pk, pair["sms_ticket"].pk}
    assert {(i.kind, i.address) for i in keep.identities.all()} == {("email", "maija@example.org"), ("phone", "+358401234567")}
    pair["message"].refresh_from_db()
    assert pair["message"].author_contact_id == keep.pk
    assert [n.text for n in ContactNote.objects.filter(contact=keep)] == ["Prefers SMS"]
    keep.refresh_from_db()
    assert keep.attributes == {"plan": "pro", "city": "Oulu", "vip": True}  # the kept contact's values win
    assert keep.phone == "+358401234567"  # an empty field is filled from the merged contact
    dup = Contact.objects.get(pk=pair["dup"].pk)
    assert dup.merged_into_id == keep.pk and not dup.tickets.exists() and not dup.identities.exists()
    audit = ContactMerge.objects.get()
    assert (audit.source_id, audit.target_id, audit.actor_id) == (dup.pk, keep.pk, pair["agent"].pk)
    assert audit.moved["tickets.ticket.contact"] == 1


def test_a_new_message_from_the_merged_identity_reaches_the_kept_contact(pair):
    merge_contacts(source=pair["dup"], target=pair["keep"], actor=pair["agent"])
    assert resolve_contact(kind="phone", address="+358401234567").pk == pair["keep"].pk


def test_merging_again_changes_nothing_and_self_merge_is_refused(pair):
    merge_contacts(source=pair["dup"], target=pair["keep"], actor=pair["agent"])
    merge_contacts(source=Contact.objects.get(pk=pair["dup"].pk), target=pair["keep"], actor=pair["agent"])
    assert ContactMerge.objects.count() == 1
    with pytest.raises(MergeError):
        merge_contacts(source=pair["keep"], target=pair["keep"], actor=pair["agent"])
    third = ContactFactory()
    with pytest.raises(MergeError):
        merge_contacts(source=Contact.objects.get(pk=pair["dup"].pk), target=third, actor=pair["agent"])


def test_merge_into_a_merged_contact_follows_to_the_kept_one(pair):
    merge_contacts(source=pair["dup"], target=pair["keep"], actor=pair["agent"])
    third = ContactFactory(name="Maija V.")
    TicketFactory(contact=third, team=pair["team"])
    result = merge_contacts(source=third, target=Contact.objects.get(pk=pair["dup"].pk), actor=pair["agent"])
    assert result.pk == pair["keep"].pk
    assert Ticket.objects.filter(contact=pair["keep"]).count() == 3


def test_merge_api_and_team_isolation(pair):
    client = APIClient()
    client.force_authenticate(pair["agent"])
    url = f"/api/v1/contacts/{pair['dup'].pk}/merge/"
    response = client.post(url, {"into": pair["keep"].pk}, format="json")
    assert response.status_code == 200 and response.json()["id"] == pair["keep"].pk
    assert {i["channel"] for i in response.json()["identities"]} == {"email", "phone"}
    assert client.post(url, {"into": pair["keep"].pk}, format="json").status_code == 200  # a retry
    assert client.post(url, {"into": "x"}, format="json").status_code == 400
    # A contact only seen through another team's tickets does not exist for this agent.
    stranger = ContactFactory()
    TicketFactory(contact=stranger, team=TeamFactory())
    assert client.post(f"/api/v1/contacts/{stranger.pk}/merge/", {"into": pair["keep"].pk}, format="json").status_code == 404
    assert client.post(f"/api/v1/contacts/{pair['keep'].pk}/merge/", {"into": stranger.pk}, format="json").status_code == 404
    assert Ticket.objects.filter(contact=stranger).count() == 1


def test_merge_from_the_contact_page(pair, client):
    client.force_login(pair["agent"])
    page = client.get(f"/agent/contacts/{pair['dup'].pk}/", {"merge_q": "maija"}).content.decode()
    assert "Maija Virtanen" in page and f'name="into" value="{pair["keep"].pk}"' in page
    response = client.post(f"/agent/contacts/{pair['dup'].pk}/merge/", {"into": pair["keep"].pk})
    assert response.status_code == 302 and response["Location"] == f"/agent/contacts/{pair['keep'].pk}/"
    # The merged contact's address now leads to the kept one.
    assert client.get(f"/agent/contacts/{pair['dup'].pk}/")["Location"] == f"/agent/contacts/{pair['keep'].pk}/"
    assert "+358401234567" in client.get(f"/agent/contacts/{pair['keep'].pk}/").content.decode()
