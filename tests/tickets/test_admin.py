from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import MessageFactory, TicketFactory
from tickets.models import Tag

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


@pytest.mark.parametrize("path", ["/admin/tickets/ticket/", "/admin/tickets/message/", "/admin/tickets/contact/"])
def test_admin_lists_do_not_grow_queries_with_rows(admin_client, path, django_assert_max_num_queries):
    tag = Tag.objects.create(name="vip")
    for _ in range(5):
        MessageFactory().ticket.tags.add(tag)
    with django_assert_max_num_queries(40) as few:
        assert admin_client.get(path).status_code == 200
    for _ in range(25):
        MessageFactory().ticket.tags.add(tag)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert admin_client.get(path).status_code == 200


def test_admin_ticket_search_and_filters(admin_client):
    TicketFactory(subject="Refund for order 42", channel="sms")
    TicketFactory(subject="Password reset", channel="email")
    page = admin_client.get("/admin/tickets/ticket/?q=refund").content.decode()
    assert "Refund for order 42" in page and "Password reset" not in page
    page = admin_client.get("/admin/tickets/ticket/?channel__exact=email").content.decode()
    assert "Password reset" in page and "Refund for order 42" not in page


def test_admin_finds_contacts_by_exact_email_through_the_blind_index(admin_client):
    ticket = TicketFactory()
    page = admin_client.get("/admin/tickets/contact/", {"q": ticket.contact.email.upper()}).content.decode()
    assert ticket.contact.name in page
