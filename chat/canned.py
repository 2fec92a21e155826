"""Canned responses: which ones an agent may use, variable expansion, phrase completions."""

from __future__ import annotations

import re
from collections import Counter

from django.db.models import F, Q, QuerySet

from tickets import selectors
from tickets.models import Ticket
from tickets.representations import agent_name

from .models import CannedResponse

VARIABLE = re.compile(r"\{\{\s*(contact\.name|agent\.name|ticket\.id)\s*\}\}")


def visible_canned(*, agent) -> QuerySet[CannedResponse]:
    """The agent's own, their teams' and everyone's canned responses (admins see all)."""
    qs = CannedResponse.objects.select_related("team", "owner")
    if selectors.sees_everything(agent):
        return qs.filter(Q(owner__isnull=True) | Q(owner=agent))
    return qs.filter(Q(owner=agent) | Q(owner__isnull=True, team__isnull=True) | Q(owner__isnull=True, team_id__in=selectors.team_ids(agent)))


def can_edit(*, agent, canned: CannedResponse) -> bool:
    """Owners edit their own; supervisors and admins edit team and global ones."""
    if canned.owner_id:
        return canned.owner_id == agent.pk
    profile = getattr(agent, "agent", None)
    manager = agent.is_superuser or (profile is not None and profile.is_manager)
    if canned.team_id is None:
        return manager and selectors.sees_everything(agent)
    return manager and (selectors.sees_everything(agent) or canned.team_id in selectors.team_ids(agent))


def expand(body: str, *, agent, ticket: Ticket | None) -> str:
    """Fill `{{contact.name}}`, `{{agent.name}}` and `{{ticket.id}}`; unknown values become empty."""
    values = {
        "contact.name": (ticket.contact.name if ticket is not None else "") or "",
        "agent.name": (agent.first_name or agent_name(agent)) if agent is not None else "",
        "ticket.id": str(ticket.pk) if ticket is not None else "",
    }
    return VARIABLE.sub(lambda m: values[m.group(1)], body)


def use(*, agent, canned: CannedResponse, ticket: Ticket | None) -> str:
    CannedResponse.objects.filter(pk=canned.pk).update(usage_count=F("usage_count") + 1)
    return expand(canned.body, agent=agent, ticket=ticket)


def phrases(*, agent, limit: int = 200) -> list[str]:
    """Frequent phrases for composer autocompletion: the sentences of the agent's canned responses,
    most used first, variables left out."""
    counts: Counter[str] = Counter()
    for body, used in visible_canned(agent=agent).values_list("body", "usage_count"):
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", body):
            sentence = VARIABLE.sub("", sentence).strip()
            if 12 <= len(sentence) <= 200 and "{{" not in sentence:
                counts[sentence] += 1 + used
    return [s for s, _n in counts.most_common(limit)]
