"""The action format shared by macros and automation rules (CONTRACT):

    [{"set_status": s} | {"set_priority": p} | {"add_tag": t} | {"remove_tag": t} | {"assign": agent id|null}
     | {"set_team": team id} | {"reply": text} | {"note": text}]

Automation rules may also use `{"notify": "assignee" | "team" | <agent id>}` and `{"canned": <canned response id>}`.
Every action goes through the ticket services; nothing writes tickets directly.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from tickets import events, selectors, services
from tickets.adapters import ReplyRefused
from tickets.models import Priority, Status, Team, Ticket

MACRO_ACTIONS = {"set_status", "set_priority", "add_tag", "remove_tag", "assign", "set_team", "reply", "note"}
RULE_ACTIONS = MACRO_ACTIONS | {"notify", "canned"}


class InvalidAction(ValueError):
    """The action list is malformed; the text says which action and why."""


def validate_actions(actions: Any, *, allowed: set[str] = MACRO_ACTIONS) -> list[dict]:
    if not isinstance(actions, list) or not actions:
        raise InvalidAction(_("Actions must be a non-empty list."))
    if len(actions) > 50:
        raise InvalidAction(_("At most 50 actions."))
    for index, action in enumerate(actions):
        if not isinstance(action, dict) or len(action) != 1:
            raise InvalidAction(_("Action %(n)d must be an object with one key.") % {"n": index + 1})
        (name, value), = action.items()
        if name not in allowed:
            raise InvalidAction(_("Action %(n)d: unknown action %(name)s.") % {"n": index + 1, "name": name})
        error = _check(name, value)
        if error:
            raise InvalidAction(_("Action %(n)d (%(name)s): %(error)s") % {"n": index + 1, "name": name, "error": error})
    return actions


def apply_actions(*, ticket: Ticket, actions: list[dict], actor=None, label: str = "") -> tuple[Ticket, list[str]]:
    """Run the actions in order on one ticket. Returns the updated ticket and the errors of actions that
    could not run (a reply the channel refuses); the others still apply."""
    errors = []
    for action in actions:
        (name, value), = action.items()
        try:
            ticket = _apply(ticket, name, value, actor, label)
        except (ReplyRefused, services.InvalidMessage) as exc:
            errors.append(f"{name}: {exc}")
    return ticket, errors


def _check(name: str, value: Any) -> str:
    if name == "set_status" and value not in Status.values:
        return _("unknown status")
    if name == "set_priority" and value not in Priority.values:
        return _("unknown priority")
    if name in ("add_tag", "remove_tag") and not (isinstance(value, str) and 0 < len(value.strip()) <= 50):
        return _("a tag name of 1-50 characters")
    if name in ("reply", "note") and not (isinstance(value, str) and 0 < len(value.strip()) <= 10_000):
        return _("a text of 1-10000 characters")
    if name == "assign" and value is not None and not _agent_exists(value):
        return _("unknown agent")
    if name == "set_team" and not (isinstance(value, int) and Team.objects.filter(pk=value).exists()):
        return _("unknown team")
    if name == "notify" and value not in ("assignee", "team") and not _agent_exists(value):
        return _("\"assignee\", \"team\" or an agent id")
    if name == "canned" and _canned_text(value) is None:
        return _("unknown canned response")
    return ""


def _agent_exists(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and get_user_model().objects.filter(pk=value, is_active=True, agent__isnull=False).exists()


def _canned_text(value: Any) -> str | None:
    try:
        model = apps.get_model("chat", "CannedResponse")
    except LookupError:
        return None
    if not isinstance(value, int):
        return None
    return model.objects.filter(pk=value).values_list("body", flat=True).first()


def _apply(ticket: Ticket, name: str, value: Any, actor, label: str) -> Ticket:
    if name == "set_status":
        return services.set_status(ticket=ticket, actor=actor, status=value)
    if name == "set_priority":
        return services.set_priority(ticket=ticket, actor=actor, priority=value)
    if name == "add_tag":
        return services.set_tags(ticket=ticket, actor=actor, add=[value])
    if name == "remove_tag":
        return services.set_tags(ticket=ticket, actor=actor, remove=[value])
    if name == "assign":
        assignee = get_user_model().objects.filter(pk=value, is_active=True).first() if value else None
        return services.assign(ticket=ticket, actor=actor, assignee=assignee)
    if name == "set_team":
        return services.set_team(ticket=ticket, actor=actor, team=Team.objects.filter(pk=value).first())
    if name in ("reply", "note", "canned"):
        text = _expand(_canned_text(value) if name == "canned" else value, actor, ticket)
        services.reply(ticket=ticket, agent=actor, text=text or "", internal=name == "note", bot=actor is None)
        return Ticket.objects.get(pk=ticket.pk)
    if name == "notify":
        _notify(ticket, value, label)
    return ticket


def _expand(text: str | None, actor, ticket: Ticket) -> str:
    """Fill the canned-response variables ({{contact.name}}, {{agent.name}}, {{ticket.id}}) when the chat
    app that defines them is installed."""
    if not text:
        return ""
    try:
        from chat.canned import expand
    except ImportError:
        return text
    return expand(text, agent=actor, ticket=ticket)


def _notify(ticket: Ticket, whom: Any, label: str) -> None:
    if whom == "assignee":
        groups = [f"agent.{ticket.assignee_id}"] if ticket.assignee_id else []
    elif whom == "team":
        groups = [events.team_group(ticket.team_id)]
    else:
        user = get_user_model().objects.filter(pk=whom).first()
        groups = [f"agent.{whom}"] if user is not None and selectors.can_see_ticket(agent=user, ticket_id=ticket.pk) else []
    frame = {"type": "notification", "ticket": ticket.pk, "subject": ticket.subject, "text": label}
    events.publish("workflows.notify", groups=groups, frame=frame, data={"ticket_id": ticket.pk, "team_id": ticket.team_id})
