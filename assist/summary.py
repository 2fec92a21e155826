"""A short extractive summary when a long conversation changes hands (reassignment, team transfer).

The summary is an internal note by the bot in the ticket's own stream, so the agent who takes over reads it
right where the conversation is, and it is also kept on `Summary` (one per handover event: idempotent).
Sentences are scored by how many of the conversation's salient stems they carry; the customer's opening
request and the latest exchange get a boost, because that is what the next agent needs first.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import text as textlib
from .models import AssistSettings, Summary

log = logging.getLogger(__name__)

HANDOVER_KINDS = {"assigned", "team", "transferred"}
MAX_SENTENCES = 4
RECENT = timedelta(minutes=2)


def summarize(messages: list[dict], max_sentences: int = MAX_SENTENCES) -> list[tuple[str, str]]:
    """Pick the most informative sentences, in conversation order: [(speaker, sentence)].

    `messages` are dicts with `speaker` and `text`, oldest first. Pure function.
    """
    candidates: list[tuple[int, str, str, list[str]]] = []
    for position, message in enumerate(messages):
        for sentence in textlib.sentences(message["text"]):
            stems = textlib.tokens(sentence)
            if len(stems) >= 2:
                candidates.append((position, message["speaker"], sentence, stems))
    if not candidates:
        return []
    frequency = Counter(stem for *_rest, stems in candidates for stem in set(stems))
    last = len(messages) - 1
    scored = []
    for index, (position, _speaker, sentence, stems) in enumerate(candidates):
        salience = sum(frequency[s] for s in set(stems)) / (len(stems) ** 0.5)
        if position == 0:
            salience *= 1.6  # the customer's opening request
        elif position >= last - 1:
            salience *= 1.3  # where things stand now
        if sentence.endswith("?"):
            salience *= 1.15
        scored.append((salience, index))
    chosen = sorted(index for _s, index in sorted(scored, reverse=True)[:max_sentences])
    return [(candidates[i][1], textlib.snippet(candidates[i][2], 240)) for i in chosen]


def summarize_ticket(ticket_id: int, *, trigger: str) -> Summary | None:
    """Write the summary note for one handover (`trigger` identifies it); None when too short or done."""
    from tickets import services
    from tickets.models import Message, Ticket

    if Summary.objects.filter(trigger=trigger).exists():
        return None
    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return None
    rows = list(
        Message.objects.filter(ticket=ticket, direction__in=["inbound", "outbound"], is_bot=False)
        .select_related("author_agent")
        .order_by("created_at", "id")
    )
    if len(rows) < AssistSettings.current().summary_min_messages:
        return None
    messages = [{"speaker": _speaker(m), "text": m.text} for m in rows]
    picked = summarize(messages)
    if not picked:
        return None
    body = "\n".join(f"• {speaker}: {sentence}" for speaker, sentence in picked)
    text = _("Summary of the conversation so far (%(count)d messages):") % {"count": len(rows)} + "\n" + body
    try:
        with transaction.atomic():
            summary = Summary.objects.create(ticket=ticket, trigger=trigger, text=text)
            note = services.reply(ticket=ticket, agent=None, text=text, internal=True, bot=True)
            summary.note = note
            summary.save(update_fields=["note"])
    except IntegrityError:
        return None  # another process wrote this handover's summary first
    return summary


def on_ticket_updated(kind: str, data: dict) -> None:
    """After a ticket changed: if the change was a handover of a live conversation, summarize it once."""
    from tickets import events

    ticket_id = data.get("ticket_id")
    if not ticket_id:
        return
    # A chat transfer to a team changes the team and unassigns in one go: the team change is the handover.
    event = next((e for e in events.per_ticket("assist.handovers", ticket_id, _recent_handovers) if _is_handover(e)), None)
    if event is not None:
        summarize_ticket(ticket_id, trigger=f"event:{event.pk}")


def _recent_handovers(ticket_ids: list[int]) -> dict[int, list]:
    """The last five handover events of the past two minutes of each ticket, newest first."""
    from tickets.models import TicketEvent

    found: dict[int, list] = {pk: [] for pk in ticket_ids}
    if ticket_ids:
        recent = TicketEvent.objects.filter(ticket_id__in=ticket_ids, kind__in=HANDOVER_KINDS, created_at__gte=timezone.now() - RECENT)
        for event in recent.order_by("-created_at", "-id"):
            if len(found[event.ticket_id]) < 5:
                found[event.ticket_id].append(event)
    return found


def _is_handover(event) -> bool:
    """A conversation moving from someone to someone else (not the first pick-up, not an unassignment)."""
    data = event.data or {}
    before, after = data.get("from") or {}, data.get("to") or {}
    if event.kind == "assigned":
        return bool(before.get("assignee_id")) and bool(after.get("assignee_id")) and before != after
    if event.kind == "team":
        return bool(before.get("team_id")) and before != after
    return True


def _speaker(message) -> str:
    if message.direction == "inbound":
        return _("Customer")
    agent = message.author_agent
    return (agent.get_full_name() or agent.get_username()) if agent else _("Agent")
