"""Macros on one and many tickets; merge and split with attachments, undo, pointers; API routes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import AgentFactory, ContactFactory, MessageFactory, TeamFactory, TicketFactory
from tickets.attachments import store_attachment
from tickets.inbound import InboundAttachment
from tickets.models import Attachment, Message, TicketEvent
from workflows.models import Macro, TicketMove

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk():
    support, billing = TeamFactory(name="Support"), TeamFactory(name="Billing")
    agent = AgentFactory(username="alice", teams=[support])
    supervisor = AgentFactory(username="sam", teams=[support], profile={"role": "supervisor"})
    client = APIClient()
    client.force_authenticate(agent)
    return {"support": support, "billing": billing, "agent": agent, "supervisor": supervisor, "client": client}


def test_only_supervisors_create_macros_and_bad_actions_are_refused(desk):
    body = {"name": "Close as spam", "actions": [{"add_tag": "spam"}, {"set_status": "closed"}]}
    assert desk["client"].post("/api/v1/macros/", body, format="json").status_code == 403
    boss = APIClient()
    boss.force_authenticate(desk["supervisor"])
    created = boss.post("/api/v1/macros/", body, format="json")
    assert created.status_code == 201 and created.json()["actions"] == body["actions"]
    bad = boss.post("/api/v1/macros/", {"name": "x", "actions": [{"set_status": "exploded"}]}, format="json")
    assert bad.status_code == 400 and "status" in str(bad.json())
    assert [m["name"] for m in desk["client"].get("/api/v1/macros/").json()["results"]] == ["Close as spam"]


def test_apply_macro_to_one_ticket(desk):
    ticket = TicketFactory(team=desk["support"])
    macro = Macro.objects.create(name="Escalate", actions=[{"set_priority": "urgent"}, {"add_tag": "vip"}, {"note": "Escalated to tier 2"}, {"assign": desk["agent"].pk}])
    response = desk["client"].post(f"/api/v1/tickets/{ticket.pk}/apply-macro/", {"macro": macro.pk}, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["priority"], data["tags"], data["assignee"], data["errors"]) == ("urgent", ["vip"], desk["agent"].pk, [])
    assert Message.objects.get(ticket=ticket, direction="note").text == "Escalated to tier 2"
    assert TicketEvent.objects.filter(ticket=ticket, kind="macro", actor=desk["agent"]).count() == 1


def test_apply_macro_to_many_tickets_skips_those_the_agent_cannot_see(desk):
    mine = [TicketFactory(team=desk["support"]) for _ in range(5)]
    foreign = TicketFactory(team=desk["billing"])
    macro = Macro.objects.create(name="Solve", actions=[{"add_tag": "bulk"}, {"set_status": "resolved"}])
    ids = [t.pk for t in mine] + [foreign.pk]
    response = desk["client"].post(f"/api/v1/macros/{macro.pk}/apply/", {"tickets": ids}, format="json")
    assert response.status_code == 200
    results = {r["ticket"]: r for r in response.json()["results"]}
    assert all(results[t.pk]["ok"] for t in mine)
    assert results[foreign.pk] == {"ticket": foreign.pk, "ok": False, "errors": ["not found"]}
    for ticket in mine:
        ticket.refresh_from_db()
        assert ticket.status == "resolved" and list(ticket.tags.values_list("name", flat=True)) == ["bulk"]
    foreign.refresh_from_db()
    assert foreign.status == "new" and not foreign.tags.exists()


def _conversation(team, contact, start, texts, with_attachment=False):
    ticket = TicketFactory(team=team, contact=contact, created_at=start, last_message_at=start)
    messages = []
    for i, text in enumerate(texts):
        messages.append(MessageFactory(ticket=ticket, text=text, created_at=start + timedelta(minutes=10 * i)))
    if with_attachment:
        store_attachment(messages[-1], InboundAttachment(filename="invoice.pdf", content_type="application/pdf", content=b"%PDF-1.4 test"))
    TicketEvent.objects.create(ticket=ticket, kind="tags", data={"added": ["x"]}, created_at=start)
    return ticket, messages


def test_merge_keeps_every_message_attachment_and_event_in_time_order_and_undo_restores(desk):
    contact = ContactFactory()
    target, _ = _conversation(desk["support"], contact, T0, ["t1", "t2"])
    source, _ = _conversation(desk["support"], contact, T0 + timedelta(minutes=5), ["s1", "s2"], with_attachment=True)
    client = desk["client"]
    response = client.post(f"/api/v1/tickets/{source.pk}/merge/", {"into": target.pk}, format="json")
    assert response.status_code == 200
    assert response.json()["id"] == target.pk and response.json()["undo"]["move"]
    timeline = client.get(f"/api/v1/tickets/{target.pk}/messages/").json()["results"]
    assert [m["text"] for m in timeline] == ["t1", "s1", "t2", "s2"]
    assert [a["filename"] for a in timeline[3]["attachments"]] == ["invoice.pdf"]
    assert TicketEvent.objects.filter(ticket=target, kind="tags").count() == 2
    assert TicketEvent.objects.filter(ticket=target, kind="merged", data__from=source.pk).exists()
    # The source is a pointer: API answers with the target id, the page redirects, the queue hides it.
    assert client.get(f"/api/v1/tickets/{source.pk}/").json()["merged_into"] == target.pk
    page = Client()
    page.force_login(desk["agent"])
    assert page.get(f"/agent/tickets/{source.pk}/").url == f"/agent/tickets/{target.pk}/"
    assert source.pk not in {t["id"] for t in client.get("/api/v1/tickets/").json()["results"]}

    undo = client.post(f"/api/v1/moves/{response.json()['undo']['move']}/undo/")
    assert undo.status_code == 200
    source.refresh_from_db()
    assert source.merged_into_id is None and source.status == "new"
    assert [m.text for m in Message.objects.filter(ticket=source).order_by("created_at")] == ["s1", "s2"]
    assert Attachment.objects.get().message.ticket_id == source.pk
    assert [m.text for m in Message.objects.filter(ticket=target).order_by("created_at")] == ["t1", "t2"]
    assert client.post(f"/api/v1/moves/{response.json()['undo']['move']}/undo/").status_code == 400


def test_merge_across_customers_needs_the_agents_choice(desk):
    a = TicketFactory(team=desk["support"])
    b = TicketFactory(team=desk["support"])
    refused = desk["client"].post(f"/api/v1/tickets/{a.pk}/merge/", {"into": b.pk}, format="json")
    assert refused.status_code == 400 and "different customers" in refused.json()["detail"]
    ok = desk["client"].post(f"/api/v1/tickets/{a.pk}/merge/", {"into": b.pk, "allow_other_contact": True}, format="json")
    assert ok.status_code == 200 and ok.json()["id"] == b.pk


def test_merge_and_split_of_invisible_tickets_are_404_or_refused(desk):
    mine = TicketFactory(team=desk["support"])
    foreign = TicketFactory(team=desk["billing"], contact=mine.contact)
    client = desk["client"]
    assert client.post(f"/api/v1/tickets/{foreign.pk}/merge/", {"into": mine.pk}, format="json").status_code == 404
    assert client.post(f"/api/v1/tickets/{mine.pk}/merge/", {"into": foreign.pk}, format="json").status_code == 400
    assert client.post(f"/api/v1/tickets/{foreign.pk}/split/", {"from_message": 1}, format="json").status_code == 404
    assert client.post(f"/api/v1/tickets/{foreign.pk}/apply-macro/", {"macro": 1}, format="json").status_code == 404
    mine.refresh_from_db()
    assert mine.merged_into_id is None


def test_split_moves_a_message_and_what_follows_into_a_new_ticket_and_undo(desk):
    ticket, messages = _conversation(desk["support"], ContactFactory(), T0, ["order", "unrelated question", "more on it"], with_attachment=True)
    client = desk["client"]
    response = client.post(f"/api/v1/tickets/{ticket.pk}/split/", {"from_message": messages[1].pk}, format="json")
    assert response.status_code == 201
    new_id = response.json()["id"]
    assert new_id != ticket.pk and response.json()["contact"] == ticket.contact_id
    assert [m["text"] for m in client.get(f"/api/v1/tickets/{new_id}/messages/").json()["results"]] == ["unrelated question", "more on it"]
    assert Attachment.objects.get().message.ticket_id == new_id
    assert [m.text for m in Message.objects.filter(ticket=ticket)] == ["order"]
    assert TicketEvent.objects.filter(ticket=ticket, kind="split", data__into=new_id).exists()
    # Splitting from the first message would empty the ticket.
    assert client.post(f"/api/v1/tickets/{ticket.pk}/split/", {"from_message": messages[0].pk}, format="json").status_code == 400

    assert client.post(f"/api/v1/moves/{response.json()['undo']['move']}/undo/").status_code == 200
    assert [m.text for m in Message.objects.filter(ticket=ticket).order_by("created_at")] == ["order", "unrelated question", "more on it"]
    assert client.get(f"/api/v1/tickets/{new_id}/").json()["merged_into"] == ticket.pk


def test_undo_is_refused_after_the_window(desk):
    contact = ContactFactory()
    a, b = TicketFactory(team=desk["support"], contact=contact), TicketFactory(team=desk["support"], contact=contact)
    move_id = desk["client"].post(f"/api/v1/tickets/{a.pk}/merge/", {"into": b.pk}, format="json").json()["undo"]["move"]
    TicketMove.objects.filter(pk=move_id).update(created_at=datetime.now(UTC) - timedelta(hours=2))
    response = desk["client"].post(f"/api/v1/moves/{move_id}/undo/")
    assert response.status_code == 400 and "Too late" in response.json()["detail"]


def test_routes_do_not_clash_with_the_core_ticket_routes(desk):
    ticket = TicketFactory(team=desk["support"])
    client = desk["client"]
    assert client.get(f"/api/v1/tickets/{ticket.pk}/").json()["id"] == ticket.pk
    assert client.get(f"/api/v1/tickets/{ticket.pk}/messages/").status_code == 200
    for verb in ("merge", "split", "apply-macro"):
        assert client.get(f"/api/v1/tickets/{ticket.pk}/{verb}/").status_code == 405  # ours, POST only
    assert client.post(f"/api/v1/tickets/{ticket.pk}/merge/", {}, format="json").status_code == 400


def test_ticket_page_shows_sla_and_workflow_panels(desk):
    ticket = TicketFactory(team=desk["support"])
    Macro.objects.create(name="Say thanks", actions=[{"note": "thanks"}], shortcut="t")
    page = Client()
    page.force_login(desk["agent"])
    html = page.get(f"/agent/tickets/{ticket.pk}/").content.decode()
    assert 'id="sla-panel"' in html and 'id="workflow-actions"' in html and 'data-macro=' in html
    assert 'id="collision"' in html and "workflows/workflows.js" in html


def test_django_admin_pages_render_and_never_show_the_webhook_secret():
    from django.contrib.auth import get_user_model

    from workflows.models import Webhook

    admin_user = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    hook = Webhook.objects.create(url="https://hooks.example.com/x", events=["ticket.created"], secret="very-secret-value-123")
    page = Client()
    page.force_login(admin_user)
    for name in ("businesshours", "slapolicy", "ticketsla", "automationrule", "macro", "ticketmove", "webhook"):
        assert page.get(f"/admin/workflows/{name}/").status_code == 200
        assert page.get(f"/admin/workflows/{name}/add/").status_code == 200
    change = page.get(f"/admin/workflows/webhook/{hook.pk}/change/")
    assert change.status_code == 200 and "very-secret-value-123" not in change.content.decode()
