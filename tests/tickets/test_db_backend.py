"""The project's PostgreSQL backend memoizes join compilation and writes text-heavy bulk INSERTs as VALUES:
the SQL must otherwise be Django's, and the rows the same."""

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


def _insert_sql(build) -> tuple[list[str], list]:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        created = build()
    return [q["sql"] for q in captured.captured_queries if q["sql"].startswith("INSERT")], created


@pytest.mark.django_db
def test_rows_with_long_text_are_inserted_as_values_and_read_back_unchanged():
    from tests.factories import TicketFactory

    ticket = TicketFactory()
    bodies = [("Ääkköset «quoted» \"double\" 'single' back\\slash {brace} %s %% NUL-free\n" * 8) + str(i) for i in range(5)]
    sql, created = _insert_sql(
        lambda: Message.objects.bulk_create(
            [Message(ticket=ticket, direction="inbound", channel="email", text=b, html=f"<p>{b}</p>", meta={"n": i, "s": b[:20]}) for i, b in enumerate(bodies)]
        )
    )
    assert len(sql) == 1 and "UNNEST" not in sql[0] and "VALUES" in sql[0]
    stored = {m.pk: m for m in Message.objects.filter(pk__in=[m.pk for m in created])}
    for i, message in enumerate(created):
        again = stored[message.pk]
        assert (again.text, again.html, again.meta) == (bodies[i], f"<p>{bodies[i]}</p>", {"n": i, "s": bodies[i][:20]})


@pytest.mark.django_db
def test_narrow_rows_keep_djangos_unnest_insert():
    from django.db.backends.postgresql.compiler import SQLInsertCompiler as Stock

    from tests.factories import ContactFactory, TeamFactory

    team, contact = TeamFactory(), ContactFactory()
    rows = [Ticket(subject=f"s{i}", channel="chat", team=team, contact=contact) for i in range(3)]
    sql, created = _insert_sql(lambda: Ticket.objects.bulk_create(rows))
    assert len(sql) == 1 and "UNNEST" in sql[0]
    # The same statement Django's own compiler writes.
    from django.db.models.sql.subqueries import InsertQuery

    query = InsertQuery(Ticket)
    fields = [f for f in Ticket._meta.concrete_fields if not f.primary_key]
    query.insert_values(fields, [Ticket(subject=f"t{i}", channel="chat", team=team, contact=contact) for i in range(3)])
    ours = query.get_compiler(connection=connection).as_sql()
    theirs = Stock(query, connection, "default").as_sql()
    assert ours == theirs
    assert [t.subject for t in Ticket.objects.filter(pk__in=[t.pk for t in created]).order_by("pk")] == ["s0", "s1", "s2"]
