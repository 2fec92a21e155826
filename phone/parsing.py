"""Pure parsing of Twilio's form posts: parameters in, an `InboundMessage` (or a small value) out. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tickets.inbound import InboundAttachment, InboundMessage, ThreadHints

# Twilio's default opt-out handling (Advanced Opt-Out off) recognises these keywords.
STOP_KEYWORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
START_KEYWORDS = {"START", "YES", "UNSTOP", "OPTIN"}

# Twilio accepts a Body of up to 1,600 characters per message (it segments that into SMS parts itself).
TWILIO_BODY_LIMIT = 1600


@dataclass(frozen=True)
class MediaRef:
    url: str
    content_type: str
    index: int


@dataclass(frozen=True)
class StatusReport:
    sid: str
    status: str  # a tickets DeliveryStatus, or "" for states we do not track
    error: str


def split_address(value: str) -> tuple[str, str]:
    """`whatsapp:+447700900456` -> ("whatsapp", "+447700900456"); `+447700900123` -> ("phone", ...)."""
    value = (value or "").strip()
    if value.lower().startswith("whatsapp:"):
        return "whatsapp", value.split(":", 1)[1].strip()
    return "phone", value


def opt_keyword(params: Mapping[str, str]) -> str:
    """"stop", "start" or "" for this inbound message. Twilio sends OptOutType when it recognised one."""
    declared = (params.get("OptOutType") or "").strip().upper()
    if declared == "STOP":
        return "stop"
    if declared == "START":
        return "start"
    word = (params.get("Body") or "").strip().strip(".!").upper()
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    return ""


def media_refs(params: Mapping[str, str]) -> list[MediaRef]:
    try:
        count = int(params.get("NumMedia") or 0)
    except ValueError:
        count = 0
    refs = []
    for i in range(min(count, 10)):  # Twilio sends at most 10 media items
        url = params.get(f"MediaUrl{i}", "")
        if url:
            refs.append(MediaRef(url=url, content_type=params.get(f"MediaContentType{i}", ""), index=i))
    return refs


def parse_sms(
    params: Mapping[str, str],
    *,
    team_id: int | None = None,
    attachments: tuple[InboundAttachment, ...] = (),
    meta: dict | None = None,
) -> InboundMessage | None:
    """An inbound SMS or WhatsApp message. None when the post carries no MessageSid or sender."""
    sid = (params.get("MessageSid") or params.get("SmsMessageSid") or "").strip()
    kind, sender = split_address(params.get("From", ""))
    if not sid or not sender:
        return None
    _to_kind, to = split_address(params.get("To", ""))
    channel = "whatsapp" if kind == "whatsapp" else "sms"
    info = {"phone_number": to}
    if params.get("NumSegments"):
        info["segments"] = params["NumSegments"]
    text = params.get("Body") or ""
    extra = dict(meta or {})
    if params.get("ButtonPayload"):  # a WhatsApp quick-reply button
        extra["postback"] = {"title": params.get("ButtonText", ""), "payload": params["ButtonPayload"]}
        text = text or params.get("ButtonText", "")
    if params.get("Latitude") and params.get("Longitude"):  # a WhatsApp location pin
        place = " ".join(p for p in (params.get("Label", ""), params.get("Address", "")) if p)
        text = "\n".join(p for p in (text, f"Location: {params['Latitude']}, {params['Longitude']} {place}".strip()) if p)
    return InboundMessage(
        channel=channel,
        external_id=sid,
        sender_kind=kind,
        sender_address=sender,
        sender_name=(params.get("ProfileName") or "").strip(),  # WhatsApp profile name; SMS has none
        text=text,
        attachments=attachments,
        thread=ThreadHints(continue_latest=True),
        team_id=team_id,
        meta={"twilio": info, **extra},
    )


_STATUS_MAP = {
    "accepted": "queued",
    "scheduled": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "delivered": "delivered",
    "read": "read",
    "failed": "failed",
    "undelivered": "failed",
    "canceled": "failed",
}

# The common delivery errors, so the agent sees more than a number.
ERROR_TEXT = {
    "30001": "Queue overflow",
    "30002": "Account suspended",
    "30003": "Unreachable destination handset",
    "30004": "Message blocked",
    "30005": "Unknown destination handset",
    "30006": "Landline or unreachable carrier",
    "30007": "Carrier violation (filtered)",
    "30008": "Unknown error",
    "21610": "The recipient has opted out (STOP)",
    "63016": "Outside the WhatsApp 24-hour session window",
}


def parse_status(params: Mapping[str, str]) -> StatusReport | None:
    sid = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    raw = (params.get("MessageStatus") or params.get("SmsStatus") or "").strip().lower()
    if not sid or not raw:
        return None
    code = (params.get("ErrorCode") or "").strip()
    error = ""
    if code and code != "0":
        error = f"Twilio error {code}: {ERROR_TEXT[code]}" if code in ERROR_TEXT else f"Twilio error {code}"
    return StatusReport(sid=sid, status=_STATUS_MAP.get(raw, ""), error=error)


def split_text(text: str, limit: int = TWILIO_BODY_LIMIT) -> list[str]:
    """Split a long reply into bodies Twilio accepts (1,600 characters each), at line breaks or spaces when possible."""
    text = text.strip()
    parts: list[str] = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = text.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit  # one very long word: cut it (Python strings are code points, never half an emoji)
        parts.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        parts.append(text)
    return parts
