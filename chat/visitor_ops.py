"""Synchronous operations behind `/ws/visitor/` frames (run through database_sync_to_async).

Each takes the session id the socket's own token resolved to: a visitor cannot name another conversation.
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.utils import translation
from django.utils.translation import gettext

from . import services
from .models import SessionStatus, Widget
from .strings import widget_strings


def localized(lang: str, func, *args):
    """Run an operation in the visitor's language, so refusals reach them translated."""
    with translation.override(lang):
        return func(*args)


def load_widget(public_key: str) -> Widget | None:
    return Widget.objects.select_related("team").filter(public_key=public_key).first()


def hello(widget: Widget, token: Any, frame: dict[str, Any], headers: dict[bytes, bytes]) -> dict[str, Any]:
    locale = _locale(frame.get("locale"), headers.get(b"accept-language", b"").decode("latin1"), widget)
    welcome = services.open_session(
        widget=widget,
        token=token,
        page_url=str(frame.get("page_url") or ""),
        referrer=str(frame.get("referrer") or ""),
        user_agent=headers.get(b"user-agent", b"").decode("latin1"),
        locale=locale,
    )
    session = welcome.session
    if frame.get("name") or frame.get("email"):
        # A malformed address in hello is dropped (the pre-chat form, which explains why, asks again).
        with contextlib.suppress(services.ChatRefused):
            services.save_prechat(session_id=session.pk, name=frame.get("name") or session.name, email=frame.get("email") or session.email)
            session.refresh_from_db()
    with translation.override(locale):
        strings = widget_strings()
    return {
        "type": "welcome",
        "visitor": welcome.token,
        "session": session.pk,
        "history": welcome.history,
        "status": session.status,
        "open": services.widget_open(widget),
        "bot": services.flow_active(widget),
        "prechat_done": bool(session.email) or not widget.prechat_fields,
        "widget": {
            "name": widget.name,
            "greeting": widget.greeting,
            "colour": widget.colour,
            "text_colour": widget.text_colour,
            "prechat": widget.prechat_fields,
            "language": widget.language,
        },
        "lang": locale,
        "strings": strings,
        "_digest": session.token_hash,
        "_ticket": session.ticket_id,
        "_assignee": session.assigned_agent_id if session.status == SessionStatus.ACTIVE else None,
    }


def post(session_id: int, token_digest: str, client_id: str, text: str) -> services.Posted | None:
    """None when the visitor is over their message budget."""
    if not services.visitor_allowed(token_digest=token_digest):
        return None
    return services.post_message(session_id=session_id, client_id=client_id, text=text)


def history_after(session_id: int, after: int) -> list[dict[str, Any]]:
    return services.history(session_id=session_id, after=after)


def end(session_id: int) -> None:
    services.end_session(session_id=session_id, by="visitor")


def identify(session_id: int, payload: Any, signature: Any) -> bool:
    return services.identify(session_id=session_id, payload=payload, signature=signature)


def prechat(session_id: int, name: Any, email: Any) -> None:
    services.save_prechat(session_id=session_id, name=str(name or ""), email=str(email or ""))


def transcript(session_id: int, email: Any) -> None:
    services.send_transcript(session_id=session_id, email=str(email or ""))


def offline(widget: Widget, token_digest: str, name: Any, email: Any, text: Any, client_id: str, session_id: int | None = None) -> int:
    if not services.visitor_allowed(token_digest=token_digest):
        raise services.ChatRefused(gettext("Too many messages; wait a moment."))
    return services.offline_message(
        widget=widget, name=str(name or ""), email=str(email or ""), text=str(text or ""),
        client_id=f"{token_digest[:16]}:{client_id}", session_id=session_id,
    )  # fmt: skip


def _locale(requested: Any, accept_language: str, widget: Widget) -> str:
    for candidate in (str(requested or ""), accept_language.split(",")[0]):
        code = candidate.strip().lower()[:2]
        if code in ("en", "fi"):
            return code
    return widget.language or "en"
