from __future__ import annotations

from django import template
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tickets.sanitize import sanitize_html

register = template.Library()


@register.filter
def sanitized(value: str) -> str:
    """Stored HTML is sanitized on ingest; sanitize again on output so no old row can carry active content."""
    return mark_safe(sanitize_html(value))  # noqa: S308 - nh3 output is inert


@register.filter
def ago(value) -> str:
    """'3 hours' rather than '3 hours, 12 minutes': one unit is enough in a list."""
    from django.utils.timesince import timesince

    return timesince(value, depth=1) if value else ""


@register.filter
def event_label(event) -> str:
    labels = {
        "created": _("Ticket created"),
        "reopened": _("Reopened by a new customer message"),
        "status": _("Status changed"),
        "assigned": _("Assignment changed"),
        "priority": _("Priority changed"),
        "team": _("Team changed"),
        "tags": _("Tags changed"),
        "sla_breached": _("SLA target breached"),
        "automation": _("Automation rule applied"),
        "macro": _("Macro applied"),
        "merged": _("Another ticket was merged into this one"),
        "merged_into": _("Merged into another ticket"),
        "unmerged": _("Merge undone"),
        "split": _("Split into a new ticket"),
        "unsplit": _("Split undone"),
        "survey_answered": _("Customer answered the survey"),
        "transferred": _("Chat transferred"),
    }
    label = labels.get(event.kind, event.kind.replace("_", " "))
    to = event.data.get("to") if isinstance(event.data, dict) else None
    if event.kind in ("status", "priority") and isinstance(to, dict):
        label += f": {next(iter(to.values()), '')}"
    return label
