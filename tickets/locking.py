"""Lock the tickets an ingest batch writes to, with everything their announcements show, in one statement.

The ORM version of this (`select_for_update().select_related("team", "assignee", "contact")` and then a
prefetch of tags) was the most expensive step of storing a chat message: the SQL compiler runs for each
batch, and the tags are a second query. On PostgreSQL the statement is written once per process (see
`tickets.rows`). The team and assignee carry only what a ticket's JSON shows (the rest is deferred).
Other databases use the ORM.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import prefetch_related_objects

from .models import Contact, Tag, Team, Ticket
from .rows import Rows


@lru_cache(maxsize=1)
def _statement() -> tuple[str, Rows, Rows, Rows, Rows]:
    qn = connection.ops.quote_name
    user = get_user_model()
    ticket, team = Rows(Ticket, "t"), Rows(Team, "tm", ("id", "name"))
    assignee = Rows(user, "u", ("id", user.USERNAME_FIELD, "first_name", "last_name"))
    contact = Rows(Contact, "c")
    tags = Ticket._meta.get_field("tags")
    through = qn(tags.remote_field.through._meta.db_table)
    tag_of = f"FROM {through} tt JOIN {qn(Tag._meta.db_table)} g ON g.id = tt.{qn(tags.m2m_reverse_name())} WHERE tt.{qn(tags.m2m_column_name())} = t.id"
    sql = f"""
        SELECT {ticket.sql}, {team.sql}, {assignee.sql}, {contact.sql},
               ARRAY(SELECT g.id {tag_of} ORDER BY g.name), ARRAY(SELECT g.name {tag_of} ORDER BY g.name)
        FROM {qn(Ticket._meta.db_table)} t
        LEFT JOIN {qn(Team._meta.db_table)} tm ON tm.id = t.{qn(Ticket._meta.get_field("team").column)}
        LEFT JOIN {qn(user._meta.db_table)} u ON u.{qn(user._meta.pk.column)} = t.{qn(Ticket._meta.get_field("assignee").column)}
        LEFT JOIN {qn(Contact._meta.db_table)} c ON c.id = t.{qn(Ticket._meta.get_field("contact").column)}
        WHERE t.id = ANY(%s)
        ORDER BY t.id
        FOR UPDATE OF t"""  # noqa: S608 - names are the models'; ids are a parameter
    return sql, ticket, team, assignee, contact


def lock_tickets(ids: Sequence[int]) -> list[Ticket]:
    """The tickets with these ids, locked in id order (inside the caller's transaction), with their team,
    assignee, contact and tags loaded."""
    ids = sorted(set(ids))
    if not ids:
        return []
    if connection.vendor != "postgresql":
        query = Ticket.objects.select_for_update(of=("self",)).select_related("team", "assignee", "contact")
        tickets = list(query.filter(pk__in=ids).order_by("pk"))
        prefetch_related_objects(tickets, "tags")
        return tickets
    sql, ticket_rows, team_rows, assignee_rows, contact_rows = _statement()
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids])
        rows = cursor.fetchall()
    cuts = _cuts(len(ticket_rows), len(team_rows), len(assignee_rows), len(contact_rows))
    tickets = []
    for row in rows:
        ticket = ticket_rows.build(row[cuts[0] : cuts[1]])
        related = (("team", team_rows, cuts[1], cuts[2]), ("assignee", assignee_rows, cuts[2], cuts[3]), ("contact", contact_rows, cuts[3], cuts[4]))
        for name, rows_of, start, end in related:
            values = row[start:end]
            Ticket._meta.get_field(name).set_cached_value(ticket, rows_of.build(values) if values[0] is not None else None)
        tag_ids, tag_names = row[cuts[4]], row[cuts[4] + 1]
        prefetched_tags(ticket, [Tag.from_db(connection.alias, ["id", "name"], [pk, name]) for pk, name in zip(tag_ids, tag_names, strict=True)])
        tickets.append(ticket)
    return tickets


def prefetched_tags(ticket: Ticket, tags: list[Tag]) -> None:
    """`ticket.tags.all()` answers `tags` without a query (as after `prefetch_related("tags")`)."""
    prefetched = Tag.objects.all()
    prefetched._result_cache = tags
    prefetched._prefetch_done = True
    ticket._prefetched_objects_cache = {"tags": prefetched}


def _cuts(*widths: int) -> list[int]:
    cuts = [0]
    for width in widths:
        cuts.append(cuts[-1] + width)
    return cuts
