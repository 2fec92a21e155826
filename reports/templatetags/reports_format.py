from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def cell(row: dict, column) -> str:
    """A table cell for display: durations humanized, percentages with %, missing values as —."""
    value = row.get(column.key)
    if value is None:
        return "—"
    if column.kind == "duration":
        return duration(value)
    if column.kind == "percent":
        return f"{value:.1f} %"
    if column.kind == "number":
        return f"{value:.2f}"
    return str(value)


def duration(seconds: float) -> str:
    seconds = float(seconds)
    if seconds < 60:
        return _("%(n)d s") % {"n": round(seconds)}
    if seconds < 3600:
        return _("%(m)d min %(s)d s") % {"m": seconds // 60, "s": round(seconds % 60)}
    if seconds < 86400:
        return _("%(h)d h %(m)d min") % {"h": seconds // 3600, "m": round((seconds % 3600) / 60)}
    return _("%(d)d d %(h)d h") % {"d": seconds // 86400, "h": round((seconds % 86400) / 3600)}
