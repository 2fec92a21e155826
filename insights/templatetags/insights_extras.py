from __future__ import annotations

from datetime import timedelta

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def support_duration(value: timedelta | None) -> str:
    """'3 d 4 h', '2 h 5 min', '12 min' — compact, translated units."""
    seconds = int(value.total_seconds()) if value else 0
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    return _("%(m)d min") % {"m": minutes}


@register.filter
def stars(rating: int | None) -> str:
    if not rating:
        return ""
    rating = max(1, min(5, int(rating)))
    return "★" * rating + "☆" * (5 - rating)
