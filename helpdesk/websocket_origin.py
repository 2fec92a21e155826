"""Origin checks for websockets (CONTRACT: origins are checked against ALLOWED_HOSTS and widget domains).

`/ws/agent/` accepts only the desk's own hosts, exactly like Channels' AllowedHostsOriginValidator.
`/ws/visitor/` is opened from customers' sites, so it also accepts the allowed domains of the widget named
in the query string; the chat app provides that lookup through `widget_origin_allowed`.
"""

from __future__ import annotations

from importlib import import_module
from urllib.parse import parse_qs, urlparse

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator


class WidgetAwareOriginValidator:
    def __init__(self, application):
        self.application = application
        self.hosts_validator = AllowedHostsOriginValidator(application)

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket" and scope["path"].startswith("/ws/visitor/"):
            origin = _origin(scope)
            public_key = parse_qs(scope.get("query_string", b"").decode()).get("widget", [""])[0]
            if origin and await database_sync_to_async(_widget_allows)(public_key, origin):
                return await self.application(scope, receive, send)
        return await self.hosts_validator(scope, receive, send)


def _origin(scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"origin":
            return value.decode("latin1")
    return None


def _widget_allows(public_key: str, origin: str) -> bool:
    try:
        lookup = import_module("chat.origins").widget_origin_allowed
    except (ModuleNotFoundError, AttributeError):
        return False
    host = urlparse(origin).hostname or ""
    return bool(public_key) and lookup(public_key, host)

