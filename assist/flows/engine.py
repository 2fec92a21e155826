"""Running a chat flow: the chat app's pre-routing hook hands us each visitor message until an agent is needed.

`handle(session, message)` returns True when the bot consumed the message (routing waits) and False when
the chat should go to an agent (handoff, the visitor asked for a human, or no flow). A run pins the flow
version it started on, so publishing a new version never changes a conversation in progress. Bot messages go
through `tickets.services.reply(bot=True)`: they are in the ticket's stream for the agent who takes over.

Buttons: the bot message lists its options numbered ("1. Billing"), so a typed number or label always works;
the options are also on the message's `meta["buttons"]` and sent to the widget as a `buttons` frame
(`{"type": "buttons", "message": <id>, "options": [{"label", "value"}]}`) for widgets that render them.
"""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ..models import Flow, FlowRun, RunStatus, StepVisit
from .definition import VALIDATORS, steps_by_id

log = logging.getLogger(__name__)

MAX_AUTOMATIC_STEPS = 50  # steps run without visitor input before we assume a loop and hand off
HUMAN_WORDS = re.compile(
    r"\b(human|agent|person|operator|representative|real person|ihminen|ihmiselle|ihmisen|"
    r"asiakaspalvelija|asiakaspalvelijalle|asiakaspalvelu|agentti|henkilö)\b",
    re.IGNORECASE,
)
HUMAN_VALUE = "__human__"


class Conversation:
    """What the engine needs from a chat session, read lazily from the chat app's objects."""

    def __init__(self, session: Any, message: Any) -> None:
        self.session = session
        self.message = message
        self.ticket = message.ticket
        self.widget = getattr(session, "widget", None)
        self.language = getattr(self.widget, "language", "") or "en"

    @property
    def key(self) -> str:
        return str(self.session.pk)


def handle(session: Any, message: Any) -> bool:
    """The pre-routing hook. True = the flow took this visitor message; False = route the chat to agents."""
    if getattr(message, "direction", "inbound") != "inbound":
        return False
    convo = Conversation(session, message)
    with translation.override(convo.language), transaction.atomic():
        run = FlowRun.objects.select_for_update().filter(session_key=convo.key).first()
        if run is None:
            run = _start(convo)
            if run is None:
                return False
            if wants_human(message.text):
                return _handoff(run, convo, None, text="")
            return _run_from(run, convo, run.version.definition.get("start"))
        if run.status in (RunStatus.HANDOFF, RunStatus.ABANDONED):
            return False
        if wants_human(message.text):
            return _handoff(run, convo, None, text="")
        if run.status == RunStatus.RESOLVED:
            # The visitor came back after the bot had answered: go through the flow again.
            run.status = RunStatus.ACTIVE
            return _run_from(run, convo, run.version.definition.get("start"))
        if run.waiting:
            return _answer(run, convo, message.text.strip())
        return _run_from(run, convo, run.step)


def wants_human(text: str) -> bool:
    return text.strip() == HUMAN_VALUE or bool(HUMAN_WORDS.search(text or ""))


def flow_for_widget(widget_id: int | None) -> Flow | None:
    if widget_id is None:
        return None
    return Flow.objects.filter(widget_id=widget_id, active=True).order_by("id").first()


# ---------------------------------------------------------------- stepping


def _start(convo: Conversation) -> FlowRun | None:
    flow = flow_for_widget(getattr(convo.session, "widget_id", None))
    version = flow.live_version() if flow else None
    if version is None:
        return None
    try:
        with transaction.atomic():
            return FlowRun.objects.create(version=version, session_key=convo.key, ticket=convo.ticket, variables={"first_message": convo.message.text[:500]})
    except IntegrityError:
        return FlowRun.objects.select_for_update().get(session_key=convo.key)


def _run_from(run: FlowRun, convo: Conversation, step_id: str | None) -> bool:
    steps = steps_by_id(run.version.definition)
    for _n in range(MAX_AUTOMATIC_STEPS):
        step = steps.get(step_id or "")
        if step is None:
            # A flow that runs out of steps has done its job.
            return _finish(run, RunStatus.RESOLVED)
        _enter(run, step_id)
        kind = step["type"]
        if kind == "message":
            _say(convo, step.get("text", ""))
            step_id = step.get("next")
            if not step_id:
                return _finish(run, RunStatus.RESOLVED)
        elif kind == "buttons":
            _say(convo, step["text"], _button_options(step))
            return _wait(run)
        elif kind == "ask":
            _say(convo, step["text"])
            return _wait(run)
        elif kind == "kb":
            found = _offer_articles(run, convo, step)
            if found:
                return _wait(run)
            step_id = step.get("unresolved")
            if not step_id:
                return _handoff(run, convo, None, text=_("Let me get someone from the team to help you."))
        elif kind == "branch":
            step_id = _branch(run, convo, step)
        elif kind == "handoff":
            return _handoff(run, convo, step.get("team"), text=step.get("text") or "")
        elif kind == "end":
            if step.get("text"):
                _say(convo, step["text"])
            return _finish(run, RunStatus.RESOLVED)
    log.warning("flow run %s went %d steps without input; handing off", run.pk, MAX_AUTOMATIC_STEPS)
    return _handoff(run, convo, None, text="")


def _answer(run: FlowRun, convo: Conversation, text: str) -> bool:
    steps = steps_by_id(run.version.definition)
    step = steps.get(run.step)
    if step is None:
        return _run_from(run, convo, None)
    kind = step["type"]
    if kind == "buttons":
        options = step.get("options", [])
        chosen = match_option(text, [o["label"] for o in _button_options(step)])
        if chosen == len(options):  # the "talk to a person" button every choice ends with
            return _handoff(run, convo, None, text="")
        if chosen is None:
            _say(convo, _("Please choose one of the options:"), _button_options(step))
            return _wait(run)
        option = options[chosen]
        run.variables[step.get("variable") or step["id"]] = option["label"]
        return _run_from(run, convo, option.get("next"))
    if kind == "ask":
        value, error = check_field(step, text)
        if error:
            _say(convo, error)
            return _wait(run)
        field = step["field"]
        run.variables[field] = value
        _remember_on_contact(convo, field, value)
        return _run_from(run, convo, step.get("next"))
    if kind == "kb":
        helped = match_option(text, [_("Yes, that answered my question"), _("No, I still need help")])
        if helped is None:
            helped = 0 if text.lower() in {"yes", "y", "kyllä", "joo", "thanks", "kiitos"} else 1
        if helped == 0:
            return _run_from(run, convo, step.get("resolved")) if step.get("resolved") else _finish(run, RunStatus.RESOLVED)
        if step.get("unresolved"):
            return _run_from(run, convo, step["unresolved"])
        return _handoff(run, convo, None, text=_("Let me get someone from the team to help you."))
    return _run_from(run, convo, run.step)


def check_field(step: dict[str, Any], text: str) -> tuple[str, str]:
    """(value, "") when the answer is valid, else ("", the error the visitor sees)."""
    value = " ".join(text.split())[:500]
    rule = step.get("validate", "text")
    if rule == "regex":
        ok = bool(value) and re.fullmatch(step.get("pattern", ""), value) is not None
    elif VALIDATORS.get(rule) is not None:
        ok = VALIDATORS[rule].match(value) is not None
    else:
        ok = bool(value)
    if ok:
        return value, ""
    if step.get("error"):
        return "", step["error"]
    defaults = {
        "email": _("That does not look like an email address. Please check it and try again."),
        "order": _("That does not look like an order number (for example 12345678). Please try again."),
        "phone": _("That does not look like a phone number. Please try again."),
    }
    return "", defaults.get(rule, _("Sorry, I did not get that. Please try again."))


def match_option(text: str, labels: list[str]) -> int | None:
    """Index of the option the visitor picked: its number, its label, or a label that starts the answer."""
    answer = text.strip().lower().rstrip(".!")
    if answer.isdigit() and 1 <= int(answer) <= len(labels):
        return int(answer) - 1
    lowered = [label.lower() for label in labels]
    if answer in lowered:
        return lowered.index(answer)
    matches = [i for i, label in enumerate(lowered) if answer and (label.startswith(answer) or answer.startswith(label))]
    return matches[0] if len(matches) == 1 else None


def _branch(run: FlowRun, convo: Conversation, step: dict[str, Any]) -> str | None:
    on = step.get("on")
    if on == "hours":
        return step.get("open") if _within_hours(convo, step.get("hours")) else step.get("closed")
    if on == "attribute":
        attributes = getattr(convo.ticket.contact, "attributes", None) or {}
        value = attributes.get(step.get("attribute", ""))
    else:
        value = run.variables.get(step.get("variable", ""))
    value = "" if value is None else str(value).strip().lower()
    for case in step.get("cases") or []:
        if str(case.get("value", "")).strip().lower() == value:
            return case.get("next")
    return step.get("default")


def _within_hours(convo: Conversation, hours: dict | None) -> bool:
    """The step's own hours when set, else the widget's business hours (chat app), else always open."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if hours and hours.get("days"):
        try:
            zone = ZoneInfo(str(hours.get("timezone") or "UTC"))
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        local = timezone.now().astimezone(zone)
        span = hours["days"].get(str(local.weekday()))
        return bool(span) and len(span) == 2 and str(span[0]) <= local.strftime("%H:%M") < str(span[1])
    try:
        from chat.services import within_business_hours
    except ImportError:
        return True
    return within_business_hours(convo.widget) if convo.widget is not None else True


def _offer_articles(run: FlowRun, convo: Conversation, step: dict[str, Any]) -> bool:
    from .. import retrieval

    # The visitor's words so far: what they just wrote and how they opened the chat (before any buttons).
    query = run.variables.get(step.get("variable") or "", "") or f"{convo.message.text}\n{run.variables.get('first_message', '')}"
    hits = retrieval.search(query, team_ids=set(), k=int(step.get("limit", 3)), sources={"article"}, public_only=True)
    if not hits:
        return False
    lines = [step.get("text") or _("These articles may answer your question:")]
    lines += [f"{i}. {hit.title} — {hit.url}" for i, hit in enumerate(hits, 1)]
    lines.append(_("Did this answer your question?"))
    options = [{"label": _("Yes, that answered my question"), "value": "1"}, {"label": _("No, I still need help"), "value": "2"}]
    _say(convo, "\n".join(lines), options, articles=[{"title": h.title, "url": h.url, "ref": h.ref} for h in hits])
    return True


def _handoff(run: FlowRun, convo: Conversation, team_id: int | None, *, text: str) -> bool:
    from tickets import services
    from tickets.models import Team

    _say(convo, text or _("I am connecting you with a person from our team."))
    team = Team.objects.filter(pk=team_id).first() if team_id else None
    if team is not None:
        from ..indexing import optional_model

        ChatSession = optional_model("chat.ChatSession")
        if ChatSession is not None:
            # The chat is routed to the session's team.
            ChatSession.objects.filter(pk=convo.session.pk).update(team_id=team.pk)
        convo.session.team_id = team.pk
        if convo.ticket.team_id != team.pk:
            services.set_team(ticket=convo.ticket, actor=None, team=team)
    run.handoff_team_id = team.pk if team else None
    _finish(run, RunStatus.HANDOFF)
    return False


def _finish(run: FlowRun, status: str) -> bool:
    run.status = status
    run.waiting = False
    run.updated_at = timezone.now()
    run.save()
    return status != RunStatus.HANDOFF


def _wait(run: FlowRun) -> bool:
    run.waiting = True
    run.status = RunStatus.ACTIVE
    run.updated_at = timezone.now()
    run.save()
    return True


def _enter(run: FlowRun, step_id: str) -> None:
    run.step = step_id
    run.waiting = False
    StepVisit.objects.create(run=run, step=step_id)


def _say(convo: Conversation, text: str, options: list[dict] | None = None, articles: list[dict] | None = None) -> None:
    from tickets import events, services
    from tickets.models import Message

    text = text.strip()
    if not text:
        return
    if options:
        text = f"{text}\n{_numbered([o['label'] for o in options])}"
    message = services.reply(ticket=convo.ticket, agent=None, bot=True, text=text)
    if options or articles:
        meta = {**(message.meta or {}), **({"buttons": options} if options else {}), **({"articles": articles} if articles else {})}
        Message.objects.filter(pk=message.pk).update(meta=meta)
        frame = {"type": "buttons", "message": message.pk, "options": options or [], "articles": articles or []}
        transaction.on_commit(partial(events.send_to_groups, [f"customer.{convo.ticket.pk}"], frame))


def _remember_on_contact(convo: Conversation, field: str, value: str) -> None:
    """Answers become contact attributes, so the agent sees them and later flows can branch on them."""
    from tickets.models import Contact

    contact = Contact.objects.select_for_update().filter(pk=convo.ticket.contact_id).first()
    if contact is not None:
        contact.attributes = {**(contact.attributes or {}), field: value}
        contact.save(update_fields=["attributes"])


def _button_options(step: dict[str, Any]) -> list[dict[str, str]]:
    """The step's buttons, then one to reach a person: the visitor can always ask for a human."""
    options = [{"label": o["label"], "value": o["label"]} for o in step.get("options", [])]
    return [*options, {"label": _("Talk to a person"), "value": HUMAN_VALUE}]


def _numbered(labels: list[str]) -> str:
    return "\n".join(f"{i}. {label}" for i, label in enumerate(labels, 1))
