"""Extension points of the agent workspace, so feature apps add to it without editing its templates.

    register_ticket_panel("knowledge/panel.html", context=lambda request, ticket: {...}, column="side")
    register_agent_script("knowledge/kb-sidebar.js")
    register_nav_link("chat:workspace", _("Chats"))

Panels render in the ticket page (`side` column or `composer`, under the reply box); scripts load on every
agent page after `helpdesk/agent.js`, which exposes `window.helpdesk` (socket, events, composer helpers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable[[HttpRequest, Any], dict] | None
    column: str
    order: int


_panels: list[Panel] = []
_scripts: list[str] = []
_nav: list[tuple[str, Any]] = []


def register_ticket_panel(template: str, *, context: Callable[[HttpRequest, Any], dict] | None = None, column: str = "side", order: int = 50) -> None:
    if all(p.template != template for p in _panels):
        _panels.append(Panel(template, context, column, order))
        _panels.sort(key=lambda p: p.order)


def register_agent_script(static_path: str) -> None:
    if static_path not in _scripts:
        _scripts.append(static_path)


def register_nav_link(url_name: str, label: Any) -> None:
    if all(u != url_name for u, _l in _nav):
        _nav.append((url_name, label))


def ticket_panels(request: HttpRequest, ticket: Any, column: str) -> list[dict]:
    rendered = []
    for panel in _panels:
        if panel.column == column:
            context = panel.context(request, ticket) if panel.context else {}
            rendered.append({"template": panel.template, "context": context})
    return rendered


def agent_scripts() -> list[str]:
    return list(_scripts)


def nav_links() -> list[tuple[str, Any]]:
    return list(_nav)


def context_processor(request: HttpRequest) -> dict:
    return {"agent_scripts": agent_scripts(), "nav_links": nav_links()}
