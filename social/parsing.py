"""Pure parsing of Messenger webhook bodies: a decoded payload in, typed events out. No I/O.

Attachments are returned as URLs to download (the edge fetches them); everything else is final here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from tickets.inbound import InboundMessage, ThreadHints


@dataclass(frozen=True)
class AttachmentRef:
    type: str  # image, video, audio, file, ...
    url: str


@dataclass(frozen=True)
class IncomingMessage:
    page_id: str
    sender_id: str
    mid: str
    text: str
    received_at: datetime
    attachments: tuple[AttachmentRef, ...] = ()
    postback: dict = field(default_factory=dict)  # {"title", "payload"} of a button or quick reply

    def inbound(self, *, team_id: int | None, sender_name: str = "", files: tuple = ()) -> InboundMessage:
        meta = {"messenger": {"page_id": self.page_id}}
        if self.postback:
            meta["postback"] = self.postback
        return InboundMessage(
            channel="messenger",
            external_id=self.mid,
            sender_kind="messenger",
            sender_address=self.sender_id,
            sender_name=sender_name,
            text=self.text or (self.postback.get("title", "") if self.postback else ""),
            attachments=files,
            thread=ThreadHints(continue_latest=True),
            team_id=team_id,
            received_at=self.received_at,
            meta=meta,
        )


@dataclass(frozen=True)
class Receipt:
    page_id: str
    sender_id: str
    kind: str  # "delivered" or "read"
    mids: tuple[str, ...]
    watermark: datetime


def parse_payload(payload: dict) -> list[IncomingMessage | Receipt]:
    """Every event in a POST (several entries, several messaging items each), in order. Echoes of the page's
    own messages, and events this desk does not handle (reactions, optins, referrals), are left out."""
    if not isinstance(payload, dict) or payload.get("object") != "page":
        return []
    found: list[IncomingMessage | Receipt] = []
    for entry in payload.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        page_id = str(entry.get("id", ""))
        for item in entry.get("messaging") or []:
            event = _event(page_id, item) if isinstance(item, dict) else None
            if event is not None:
                found.append(event)
    return found


def _event(page_id: str, item: dict) -> IncomingMessage | Receipt | None:
    sender = str((item.get("sender") or {}).get("id", ""))
    when = _time(item.get("timestamp"))
    if "message" in item:
        message = item["message"] or {}
        if message.get("is_echo"):
            return None  # the page's own message (ours, or sent from the Page inbox)
        mid = str(message.get("mid", ""))
        if not mid or not sender:
            return None
        refs = tuple(
            AttachmentRef(type=str(a.get("type", "file")), url=str((a.get("payload") or {}).get("url", "")))
            for a in message.get("attachments") or []
            if isinstance(a, dict) and (a.get("payload") or {}).get("url")
        )
        quick = message.get("quick_reply") or {}
        postback = {"title": message.get("text", ""), "payload": str(quick.get("payload", ""))} if quick else {}
        return IncomingMessage(page_id, sender, mid, str(message.get("text", "")), when, refs, postback)
    if "postback" in item:
        postback = item["postback"] or {}
        title = str(postback.get("title", ""))
        # Older postbacks carry no mid: derive a stable id so a retry is still stored once.
        mid = str(postback.get("mid") or f"postback:{sender}:{item.get('timestamp', '')}")
        return IncomingMessage(page_id, sender, mid, title, when, (), {"title": title, "payload": str(postback.get("payload", ""))})
    if "delivery" in item:
        delivery = item["delivery"] or {}
        mids = tuple(str(m) for m in delivery.get("mids") or [])
        return Receipt(page_id, sender, "delivered", mids, _time(delivery.get("watermark")))
    if "read" in item:
        return Receipt(page_id, sender, "read", (), _time((item["read"] or {}).get("watermark")))
    return None


def _time(millis) -> datetime:
    try:
        return datetime.fromtimestamp(int(millis) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return datetime.now(tz=UTC)


def split_text(text: str, limit: int = 2000) -> list[str]:
    """The Send API takes at most 2,000 characters of text per message."""
    text = text.strip()
    parts = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts
