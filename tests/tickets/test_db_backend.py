"""The project's PostgreSQL backend only memoizes a join-compilation detail: the SQL must be Django's."""

import pytest
from django.apps import apps
from django.db import connection
from django.db.backends.postgresql import operations

from chat.models import ChatSession
from tickets.models import Message, Ticket

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL backend")


def _stock_sql(queryset) -> str:
    ops = connection.ops
    connection.ops = operations.DatabaseOperations(connection)
    try:
        return str(queryset.query)
    finally:
        connection.ops = ops


def test_the_backend_is_in_use():
    assert type(connection.ops).__module__ == "helpdesk.db.postgresql.base"


@pytest.mark.parametrize(
    "queryset",
    [
        lambda: Ticket.objects.select_related("team", "assignee", "contact").filter(pk__in=[1, 2]),
        lambda: Message.objects.select_related("ticket__team", "author_agent", "author_contact").filter(ticket__contact__email_hash="x"),
        lambda: ChatSession.objects.select_related("widget__team").filter(ticket__team__name="Support"),
    ],
)
def test_joins_compile_to_the_same_sql_as_djangos_backend(queryset):
    ours = str(queryset().query)
    assert ours == _stock_sql(queryset())
    assert ours.count("JOIN") >= 2


def test_every_relation_casts_exactly_where_django_would():
    stock = operations.DatabaseOperations(connection)
    checked = 0
    for model in apps.get_models():
        for field in model._meta.get_fields():
            if not getattr(field, "is_relation", False) or not getattr(field, "concrete", False) or field.many_to_many:
                continue
            for lhs, rhs in field.related_fields:
                for _ in range(2):  # the second time from the memo
                    _l1, ours = connection.ops.prepare_join_on_clause("a", lhs, "b", rhs)
                    _l2, theirs = stock.prepare_join_on_clause("a", lhs, "b", rhs)
                    assert type(ours) is type(theirs), (model, field)
                checked += 1
    assert checked > 30
