"""The shape of a flow and its validation. Pure: a definition (JSON) in, a list of errors out.

    {"start": "hello", "steps": [
        {"id": "hello",   "type": "message",  "text": "Hi!", "next": "topic"},
        {"id": "topic",   "type": "buttons",  "text": "What about?", "variable": "topic",
                          "options": [{"label": "Billing", "next": "email"}, {"label": "Other", "next": "human"}]},
        {"id": "email",   "type": "ask",      "text": "Your email?", "field": "email", "validate": "email",
                          "error": "That is not an email address.", "next": "kb"},
        {"id": "kb",      "type": "kb",       "text": "These may help:", "limit": 3, "resolved": "bye", "unresolved": "human"},
        {"id": "route",   "type": "branch",   "on": "answer" | "attribute" | "hours", "variable": "topic",
                          "attribute": "plan", "cases": [{"value": "Billing", "next": "..."}], "default": "...",
                          "open": "...", "closed": "...", "hours": {"timezone": "...", "days": {"0": ["09:00", "17:00"]}}},
        {"id": "human",   "type": "handoff",  "text": "Connecting you…", "team": 2},
        {"id": "bye",     "type": "end",      "text": "Glad to help!"}]}
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext as _

STEP_TYPES = ("message", "buttons", "ask", "kb", "branch", "handoff", "end")
VALIDATORS = {
    "text": None,
    "email": re.compile(r"^[^@\s<>,;]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$"),
    "order": re.compile(r"^#?[A-Z]{0,3}-?\d{4,10}$", re.IGNORECASE),
    "phone": re.compile(r"^\+?[\d\s().-]{6,20}$"),
    "regex": None,  # the step's own `pattern`
}
BRANCH_ON = ("answer", "attribute", "hours")
MAX_STEPS = 200
_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def steps_by_id(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in definition.get("steps", []) if isinstance(step, dict) and "id" in step}


def validate(definition: Any, *, team_ids: set[int] | None = None) -> list[str]:
    """Every problem that would make a conversation fail, in words an admin can act on. [] = fine."""
    if not isinstance(definition, dict) or not isinstance(definition.get("steps"), list):
        return [_("A flow needs a list of steps.")]
    steps = definition["steps"]
    if not steps:
        return [_("A flow needs at least one step.")]
    if len(steps) > MAX_STEPS:
        return [_("A flow can have at most %(n)d steps.") % {"n": MAX_STEPS}]
    errors: list[str] = []
    ids: set[str] = set()
    for step in steps:
        sid = step.get("id") if isinstance(step, dict) else None
        if not isinstance(sid, str) or not _ID.match(sid):
            errors.append(_("Every step needs an id of letters, digits, - or _."))
        elif sid in ids:
            errors.append(_("Step id %(id)s is used twice.") % {"id": sid})
        else:
            ids.add(sid)
    if errors:
        return errors
    if definition.get("start") not in ids:
        errors.append(_("The flow must start at one of its steps."))
    for step in steps:
        errors.extend(_validate_step(step, ids, team_ids))
    return errors


def _validate_step(step: dict[str, Any], ids: set[str], team_ids: set[int] | None) -> list[str]:
    sid, kind = step["id"], step.get("type")
    errors: list[str] = []

    def target(key: str, required: bool = False) -> None:
        value = step.get(key)
        if value in (None, ""):
            if required:
                errors.append(_("Step %(id)s: choose the next step (%(field)s).") % {"id": sid, "field": key})
        elif value not in ids:
            errors.append(_("Step %(id)s: %(field)s points to a step that does not exist.") % {"id": sid, "field": key})

    if kind not in STEP_TYPES:
        return [_("Step %(id)s: unknown type.") % {"id": sid}]
    text = step.get("text", "")
    if not isinstance(text, str) or len(text) > 4000:
        errors.append(_("Step %(id)s: the text must be at most 4000 characters.") % {"id": sid})
    if kind in ("message", "buttons", "ask") and not str(text).strip():
        errors.append(_("Step %(id)s: write the text the visitor sees.") % {"id": sid})
    if kind == "message":
        target("next")
    elif kind == "buttons":
        options = step.get("options")
        if not isinstance(options, list) or not options or len(options) > 10:
            errors.append(_("Step %(id)s: offer between 1 and 10 buttons.") % {"id": sid})
        else:
            labels = set()
            for option in options:
                label = str(option.get("label", "")).strip() if isinstance(option, dict) else ""
                if not label or len(label) > 80:
                    errors.append(_("Step %(id)s: every button needs a label (at most 80 characters).") % {"id": sid})
                elif label.lower() in labels:
                    errors.append(_("Step %(id)s: two buttons are labelled %(label)s.") % {"id": sid, "label": label})
                else:
                    labels.add(label.lower())
                    if option.get("next") not in ids:
                        errors.append(_("Step %(id)s: button %(label)s needs a next step.") % {"id": sid, "label": label})
    elif kind == "ask":
        if not re.match(r"^[A-Za-z][A-Za-z0-9_]{0,39}$", str(step.get("field", ""))):
            errors.append(_("Step %(id)s: name the field (letters, digits, _).") % {"id": sid})
        rule = step.get("validate", "text")
        if rule not in VALIDATORS:
            errors.append(_("Step %(id)s: unknown validation.") % {"id": sid})
        if rule == "regex":
            try:
                re.compile(str(step.get("pattern", "")))
            except re.error:
                errors.append(_("Step %(id)s: the pattern is not a valid regular expression.") % {"id": sid})
            if not str(step.get("pattern", "")).strip():
                errors.append(_("Step %(id)s: write the pattern answers must match.") % {"id": sid})
        target("next")
    elif kind == "kb":
        limit = step.get("limit", 3)
        if not isinstance(limit, int) or not 1 <= limit <= 5:
            errors.append(_("Step %(id)s: offer between 1 and 5 articles.") % {"id": sid})
        target("resolved")
        target("unresolved")
    elif kind == "branch":
        on = step.get("on")
        if on not in BRANCH_ON:
            errors.append(_("Step %(id)s: branch on the answer, a contact attribute or business hours.") % {"id": sid})
        elif on == "hours":
            target("open", required=True)
            target("closed", required=True)
            errors.extend(_validate_hours(sid, step.get("hours")))
        else:
            key = "variable" if on == "answer" else "attribute"
            if not str(step.get(key, "")).strip():
                errors.append(_("Step %(id)s: name what to compare.") % {"id": sid})
            for case in step.get("cases") or []:
                if not isinstance(case, dict) or case.get("next") not in ids:
                    errors.append(_("Step %(id)s: every case needs a next step.") % {"id": sid})
            target("default", required=True)
    elif kind == "handoff":
        team = step.get("team")
        if team not in (None, "") and (not isinstance(team, int) or (team_ids is not None and team not in team_ids)):
            errors.append(_("Step %(id)s: choose an existing team.") % {"id": sid})
    return errors


def _validate_hours(sid: str, hours: Any) -> list[str]:
    if hours in (None, {}):
        return []
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    problem = _("Step %(id)s: opening hours need a time zone and days with from/until times (HH:MM).") % {"id": sid}
    if not isinstance(hours, dict) or not isinstance(hours.get("days"), dict):
        return [problem]
    try:
        ZoneInfo(str(hours.get("timezone") or "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        return [_("Step %(id)s: unknown time zone.") % {"id": sid}]
    clock = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
    for day, span in hours["days"].items():
        if day not in {str(d) for d in range(7)} or not isinstance(span, list) or len(span) != 2:
            return [problem]
        if not all(isinstance(t, str) and clock.match(t) for t in span) or span[0] >= span[1]:
            return [problem]
    return []
