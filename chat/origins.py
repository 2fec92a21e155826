"""Which sites may open `/ws/visitor/` for a widget (used by helpdesk/websocket_origin.py)."""

from __future__ import annotations

from django.conf import settings

from .widget_cache import allowed_domains


def widget_origin_allowed(public_key: str, host: str) -> bool:
    """True when `host` is one of the widget's allowed domains (`*.example.com` matches subdomains).

    The demo widget (public key `demo`) also allows the desk's own hosts, so `/widget/demo/` works anywhere.
    """
    host = (host or "").lower().rstrip(".")
    if not host or not public_key:
        return False
    domains = allowed_domains(public_key)
    if domains is None:
        return False
    patterns = [str(d).lower().strip() for d in domains if str(d).strip()]
    if public_key == "demo":
        patterns += [h.lower() for h in settings.ALLOWED_HOSTS if h != "*"]
    return any(_matches(pattern, host) for pattern in patterns)


def _matches(pattern: str, host: str) -> bool:
    pattern = pattern.split("://")[-1].split("/")[0].split(":")[0] if "://" in pattern else pattern
    pattern = pattern.strip("[]") if pattern.startswith("[") else pattern
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if pattern.startswith("."):
        return host == pattern[1:] or host.endswith(pattern)
    return host == pattern.strip("[]")
