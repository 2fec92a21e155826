"""What every channel hands to `tickets.ingest`: one dataclass, no Django models (safe to import anywhere)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class InboundAttachment:
    filename: str
    content_type: str
    content: bytes
    content_id: str = ""
    inline: bool = False


@dataclass(frozen=True)
class ThreadHints:
    """How a message says which conversation it continues. The first hint that matches wins."""

    ticket_id: int | None = None  # chat session's ticket, or a `[#123]` subject token
    references: tuple[str, ...] = ()  # external ids it answers (In-Reply-To first, then References)
    # SMS, WhatsApp, Messenger and voice continue the contact's latest ticket on that channel until it is
    # closed. Email threads only by references or token: a new email is a new ticket.
    continue_latest: bool | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    external_id: str  # Message-ID, Twilio SID, Messenger mid, chat client id; "" when the channel has none
    sender_kind: str  # an IdentityKind: email, phone, whatsapp, messenger, visitor
    sender_address: str
    sender_name: str = ""
    subject: str = ""
    text: str = ""
    html: str = ""  # sanitized again on ingest
    full_text: str = ""  # the whole original when `text` is a stripped view
    attachments: tuple[InboundAttachment, ...] = ()
    thread: ThreadHints = field(default_factory=ThreadHints)
    team_id: int | None = None  # the receiving mailbox / number / page / widget's team
    received_at: datetime | None = None
    # Machine-generated mail (auto-replies, bounces): stored on a matching ticket, never creates or reopens one.
    auto: bool = False
    contact_email: str = ""  # extra identities learnt with the message (a chat visitor's pre-chat email)
    meta: dict = field(default_factory=dict)
