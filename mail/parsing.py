"""Raw RFC 5322 bytes in, an `InboundMessage` out. Pure: no database, no network, no clock but `now`.

The standard library's `email` package with the modern policy does the MIME work; what it cannot know is
decided here: which charset a part really uses, what is a body and what an attachment, what is quoted,
whether a machine sent it, and which earlier messages it answers.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.headerregistry
import email.policy
import hashlib
import html as html_lib
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime
from urllib.parse import quote

from tickets.inbound import InboundAttachment, InboundMessage, ThreadHints
from tickets.sanitize import html_to_text, sanitize_html

from .quotes import has_quote, strip_html, strip_text

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
# nh3 is linear in its input; bounding the input bounds the time. Larger HTML is shown as its text version.
MAX_HTML_CHARS = 1_000_000
INLINE_URL = "/mail/inline/"
TOKEN = re.compile(r"\[#(\d{1,12})\]")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")

# Charset names seen in the wild that Python does not know, or knows as a smaller relative.
CHARSET_ALIASES = {
    "iso-8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252", "us-ascii": "ascii", "ansi_x3.4-1968": "ascii",
    "ks_c_5601-1987": "cp949", "ks_c_5601": "cp949", "euc-kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
    "x-gbk": "gb18030", "shift_jis": "cp932", "shift-jis": "cp932", "x-sjis": "cp932", "sjis": "cp932",
    "iso-8859-8-i": "iso-8859-8", "windows-874": "cp874", "tis-620": "cp874", "x-unknown": "utf-8",
    "unknown-8bit": "utf-8", "unknown": "utf-8", "utf8": "utf-8", "x-user-defined": "cp1252", "136": "cp949",
    "iso-2022-jp": "iso2022_jp_ext",
}  # fmt: skip
SINGLE_BYTE = {"ascii", "cp1252", "latin-1", "iso8859-15", "iso-8859-15", "cp1250", "iso-8859-2", "iso8859-2"}
AUTO_PRECEDENCE = {"bulk", "junk", "list", "auto_reply"}
REPORT_PARTS = {"message/delivery-status", "text/rfc822-headers", "message/disposition-notification", "message/feedback-report"}


class _ParsedMessage(EmailMessage):
    """An EmailMessage that parses each header once. The modern policy builds a new header object on every
    lookup, and deciding what a message is asks for Content-Type and friends dozens of times per message: this
    halves the cost of parsing. Any change to the headers forgets what was cached."""

    def get(self, name, failobj=None):
        cache = self.__dict__.setdefault("_header_cache", {})
        key = name.lower()
        if key not in cache:
            cache[key] = super().get(name)
        value = cache[key]
        return failobj if value is None else value

    def get_content_type(self):
        cached = self.__dict__.get("_content_type")
        if cached is None:
            cached = self.__dict__["_content_type"] = super().get_content_type()
        return cached

    def _forget(self) -> None:
        self.__dict__.pop("_header_cache", None)
        self.__dict__.pop("_content_type", None)

    def __setitem__(self, name, val):
        self._forget()
        super().__setitem__(name, val)

    def __delitem__(self, name):
        self._forget()
        super().__delitem__(name)

    def set_raw(self, name, value):
        self._forget()
        super().set_raw(name, value)

    def replace_header(self, _name, _value):
        self._forget()
        super().replace_header(_name, _value)

    def set_param(self, *args, **kwargs):
        self._forget()
        super().set_param(*args, **kwargs)

    def set_type(self, *args, **kwargs):
        self._forget()
        super().set_type(*args, **kwargs)

    def del_param(self, *args, **kwargs):
        self._forget()
        super().del_param(*args, **kwargs)

    def set_default_type(self, ctype):
        self._forget()
        super().set_default_type(ctype)


class _HeaderRegistry(email.headerregistry.HeaderRegistry):
    """The standard registry builds a new header class with `type()` on every header it parses; this one
    builds each once. Message-IDs are read as plain text (they are matched with MESSAGE_ID here anyway)."""

    def __init__(self) -> None:
        super().__init__()
        self.map_to_type("message-id", email.headerregistry.UnstructuredHeader)
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(name)
        return cls


PARSE_POLICY = email.policy.default.clone(message_factory=_ParsedMessage, header_factory=_HeaderRegistry())


def parse_message(
    raw: bytes,
    *,
    team_id: int | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    original_size: int | None = None,
    now: datetime | None = None,
) -> InboundMessage:
    """Parse one message as an IMAP server hands it out.

    `original_size` is the size the server reported when only the first `max_bytes` were fetched. A message
    over `max_bytes` is parsed from its first `max_bytes` and flagged `meta["truncated"]`: stored, not dropped.
    """
    meta: dict = {}
    size = max(original_size or 0, len(raw))
    if size > max_bytes:
        raw = raw[:max_bytes]
        meta["truncated"] = {"original_bytes": size, "stored_bytes": len(raw)}
    msg = email.message_from_bytes(raw, policy=PARSE_POLICY)

    sender_name, sender_address = _sender(msg)
    subject = " ".join(_header(msg, "Subject").split())
    message_id = _first_id(_header(msg, "Message-ID"))
    external_id = message_id if message_id and len(message_id) <= 255 else _fallback_id(msg, raw)

    plain_part, html_part = _body_parts(msg)
    plain = _part_text(plain_part) if plain_part is not None else ""
    html = _part_text(html_part) if html_part is not None else ""
    attachments, extra_text, report_text = _attachments(msg, {id(plain_part), id(html_part)}, html)
    if extra_text:
        plain = "\n\n".join(p for p in (plain, *extra_text) if p.strip())

    html, html_meta = _bounded_html(html)
    meta.update(html_meta)
    full_text = plain if plain.strip() else html_to_text(html) if html else ""
    visible = strip_text(full_text) if full_text else ""
    if html:
        stripped = visible != full_text.strip()
        shown = strip_html(html) if stripped else html
        if stripped and shown == html and has_quote(full_text):
            # The text quotes an earlier message but the HTML has no marker where the quote starts: the agent
            # sees the stripped text rather than the whole conversation again (the original stays in full_text).
            shown = ""
            meta["html_quote_unlocated"] = True
        html = sanitize_html(_rewrite_cids(shown, attachments, external_id)) if shown else ""

    auto, bounce = _machine_generated(msg, sender_address, report_text)
    if bounce:
        meta["bounce"] = bounce
    references = _references(msg)
    if bounce.get("message_id"):
        references = (bounce["message_id"], *references)
    token = TOKEN.search(subject)

    inbound = InboundMessage(
        channel="email",
        external_id=external_id,
        sender_kind="email",
        sender_address=sender_address,
        sender_name=sender_name,
        subject=subject,
        text=visible,
        html=html,
        full_text=full_text if visible != full_text.strip() or meta.get("truncated") else "",
        attachments=tuple(attachments),
        thread=ThreadHints(ticket_id=int(token.group(1)) if token else None, references=references, continue_latest=False),
        team_id=team_id,
        received_at=_date(msg, now),
        auto=auto,
        meta=meta,
    )
    if not (inbound.text.strip() or inbound.html.strip() or inbound.attachments or inbound.subject.strip()):
        inbound = replace(inbound, subject=f"Message from {sender_address}")
    return inbound


def desk_token(subject: str) -> int | None:
    match = TOKEN.search(subject or "")
    return int(match.group(1)) if match else None


# ---------------------------------------------------------------- headers


def _header(msg: EmailMessage, name: str) -> str:
    """A header as text; undecodable or malformed values degrade to their raw characters, never raise."""
    try:
        value = msg.get(name)
        text = "" if value is None else str(value)
    except Exception:  # noqa: BLE001 - malformed headers must not lose the message
        raw = next((v for k, v in msg.raw_items() if k.lower() == name.lower()), "")
        text = str(raw)
    if any("\udc80" <= ch <= "\udcff" for ch in text):  # raw 8-bit bytes in a header
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return text


def _raw_header(msg: EmailMessage, name: str) -> str:
    return " ".join(str(v) for k, v in msg.raw_items() if k.lower() == name.lower())


def _sender(msg: EmailMessage) -> tuple[str, str]:
    structured = _structured_from(msg)  # keeps "Doe, John" <j@example.org> together
    if structured is not None:
        return structured
    for name in ("From", "Sender", "Return-Path"):
        value = _header(msg, name)
        for display, address in getaddresses([value]):
            if "@" in address:
                return " ".join(display.split())[:200], address.strip().lower()
        if name == "From" and value.strip().upper().startswith("MAILER-DAEMON"):
            return "Mail Delivery System", "mailer-daemon@invalid"
    return "", "unknown@invalid"


def _structured_from(msg: EmailMessage) -> tuple[str, str] | None:
    try:
        address = msg["From"].addresses[0]
    except Exception:  # noqa: BLE001 - missing or malformed From: the caller parses leniently
        return None
    if "@" not in address.addr_spec:
        return None
    return " ".join(address.display_name.split())[:200], address.addr_spec.strip().lower()


def _first_id(value: str) -> str:
    match = MESSAGE_ID.search(value or "")
    return match.group(0) if match else ""


def _references(msg: EmailMessage) -> tuple[str, ...]:
    """In-Reply-To first, then References newest first (the closest ancestor is the best hint)."""
    ids = MESSAGE_ID.findall(_raw_header(msg, "In-Reply-To"))
    ids += list(reversed(MESSAGE_ID.findall(_raw_header(msg, "References"))))
    return tuple(dict.fromkeys(ids))[:50]


def _fallback_id(msg: EmailMessage, raw: bytes) -> str:
    """No (usable) Message-ID: a hash of what identifies the message, stable across re-deliveries
    (transport headers such as Received and Delivered-To are left out)."""
    digest = hashlib.sha256()
    for name in ("From", "To", "Cc", "Date", "Subject", "Message-ID"):
        digest.update(f"{name}:{_raw_header(msg, name)}\n".encode("utf-8", "surrogateescape"))
    body_start = raw.find(b"\r\n\r\n")
    body_start = raw.find(b"\n\n") if body_start < 0 else body_start
    digest.update(raw[body_start:] if body_start >= 0 else raw)
    return f"<sha256.{digest.hexdigest()[:48]}@no-message-id.invalid>"


def _date(msg: EmailMessage, now: datetime | None) -> datetime | None:
    now = now or datetime.now(UTC)
    try:
        value = parsedate_to_datetime(_header(msg, "Date"))
    except (TypeError, ValueError, IndexError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value > now + timedelta(hours=1) or value.year < 1990:
        return None  # a clock in the future or garbage: the time it arrived is better
    return value


# ---------------------------------------------------------------- bodies and charsets


def decode_bytes(data: bytes, declared: str | None) -> str:
    """Text from bytes in the charset it declares, or the one it really uses when that is wrong."""
    charset = _charset(declared)
    non_ascii = any(b > 127 for b in data)
    if non_ascii and (charset is None or charset in SINGLE_BYTE):
        # Valid UTF-8 with multi-byte sequences is almost never meant as Latin-1: a mislabelled body.
        with contextlib.suppress(UnicodeDecodeError):
            return data.decode("utf-8")
    for candidate in (charset, "utf-8"):
        if candidate is None:
            continue
        try:
            return data.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
    if charset and charset not in SINGLE_BYTE and charset != "utf-8":
        # A multi-byte text with a few broken bytes: a few replacement characters beat mojibake.
        return data.decode(charset, errors="replace")
    try:
        return data.decode("cp1252")  # the usual truth behind a wrong label
    except UnicodeDecodeError:
        return data.decode("latin-1")


def _charset(declared: str | None) -> str | None:
    if not declared:
        return None
    name = declared.strip().strip("\"'").lower()
    name = CHARSET_ALIASES.get(name, name)
    try:
        codecs.lookup(name)
    except LookupError:
        return None
    return name


def _body_parts(msg: EmailMessage):
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except Exception:  # noqa: BLE001 - a broken structure falls back to the first text parts found
        plain = next((p for p in msg.walk() if p.get_content_type() == "text/plain"), None)
        html = next((p for p in msg.walk() if p.get_content_type() == "text/html"), None)
    if msg.get_content_type() == "multipart/report" and plain is None:
        plain = next((p for p in msg.walk() if p.get_content_type() == "text/plain"), None)
    return plain, html


def _part_bytes(part) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001
        payload = None
    if payload is None:
        raw = part.get_payload()
        payload = raw.encode("utf-8", "surrogateescape") if isinstance(raw, str) else b""
    return payload


def _part_text(part) -> str:
    text = decode_bytes(_part_bytes(part), part.get_content_charset())
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    if part.get_content_type() == "text/plain" and part.get_param("format", "").lower() == "flowed":
        text = _unflow(text, delsp=part.get_param("delsp", "").lower() == "yes")
    return text


def _unflow(text: str, *, delsp: bool) -> str:
    """RFC 3676: a line ending in a space continues on the next one."""
    out: list[str] = []
    carry = ""
    for line in text.split("\n"):
        if line.startswith(" "):
            line = line[1:]  # space-stuffing
        if line.endswith(" ") and line != "-- ":
            carry += line[:-1] if delsp else line
            continue
        out.append(carry + line)
        carry = ""
    if carry:
        out.append(carry)
    return "\n".join(out)


def _bounded_html(html: str) -> tuple[str, dict]:
    if not html:
        return "", {}
    if len(html) > MAX_HTML_CHARS:
        return "", {"html_dropped": {"chars": len(html)}}
    return html, {}


def _rewrite_cids(html: str, attachments: list[InboundAttachment], external_id: str) -> str:
    """cid: references become URLs that resolve to the stored attachment (checked for the agent's access)."""
    for attachment in attachments:
        if attachment.inline and attachment.content_id:
            url = f"{INLINE_URL}?m={quote(external_id, safe='')}&cid={quote(attachment.content_id, safe='')}"
            html = re.sub(rf"cid:{re.escape(attachment.content_id)}(?=[\"'\s>])", html_lib.escape(url), html)
    return html


# ---------------------------------------------------------------- attachments


def _leaves(part):
    if part.get_content_type() == "message/rfc822" or part.get_content_type() in REPORT_PARTS:
        yield part
    elif part.is_multipart():
        for sub in part.iter_parts():
            yield from _leaves(sub)
    else:
        yield part


def _attachments(msg: EmailMessage, body_ids: set[int], html: str):
    """(attachments, extra text parts, text of delivery-report parts)."""
    is_report = msg.get_content_type() == "multipart/report"
    cids = {c.lower() for c in re.findall(r"cid:([^\"'\s>)]+)", html or "")}
    attachments: list[InboundAttachment] = []
    extra_text: list[str] = []
    report_text: list[str] = []
    for part in _leaves(msg):
        if id(part) in body_ids:
            continue
        ctype = part.get_content_type()
        if is_report and (ctype in REPORT_PARTS or ctype == "message/rfc822"):
            report_text.append(_report_part_text(part))
            continue
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        if ctype == "text/plain" and not filename and disposition != "attachment":
            extra_text.append(_part_text(part))
            continue
        if ctype == "text/html" and not filename and disposition != "attachment":
            continue  # an alternative we did not choose
        content_id = _header(part, "Content-ID").strip().strip("<>")
        content = _rfc822_bytes(part) if ctype == "message/rfc822" else _part_bytes(part)
        inline = bool(content_id) and content_id.lower() in cids
        attachments.append(
            InboundAttachment(
                filename=filename or _default_name(part, ctype),
                content_type=ctype,
                content=content,
                content_id=content_id,
                inline=inline,
            )
        )
    return attachments, extra_text, report_text


def _filename(part) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    if any("\udc80" <= ch <= "\udcff" for ch in name):
        name = decode_bytes(name.encode("utf-8", "surrogateescape"), None)
    return " ".join(name.split())


def _default_name(part, ctype: str) -> str:
    if ctype == "message/rfc822":
        inner = part.get_payload()[0] if isinstance(part.get_payload(), list) and part.get_payload() else None
        subject = _header(inner, "Subject") if inner is not None else ""
        name = re.sub(r"[^\w\s.-]", "", subject).strip()[:80]
        return f"{name or 'forwarded message'}.eml"
    extension = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "application/pdf": ".pdf"}.get(ctype, ".bin")
    return f"attachment{extension}"


def _rfc822_bytes(part) -> bytes:
    payload = part.get_payload()
    inner = payload[0] if isinstance(payload, list) and payload else None
    if inner is None:
        return _part_bytes(part)
    try:
        return inner.as_bytes(policy=email.policy.default.clone(linesep="\r\n"))
    except Exception:  # noqa: BLE001 - regenerating a broken message: keep its text
        return str(inner).encode("utf-8", "replace")


def _report_part_text(part) -> str:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        # message/rfc822 holds the returned message; message/delivery-status is parsed into header blocks.
        return "\n\n".join("\n".join(f"{k}: {v}" for k, v in block.raw_items()) for block in payload)
    return decode_bytes(_part_bytes(part), part.get_content_charset())


# ---------------------------------------------------------------- machines


def _machine_generated(msg: EmailMessage, sender: str, report_text: list[str]) -> tuple[bool, dict]:
    """(auto, bounce details). Auto-replies and bounces never open, reopen or trigger anything."""
    auto_submitted = _header(msg, "Auto-Submitted").strip().lower()
    precedence = _header(msg, "Precedence").strip().lower()
    local = sender.split("@")[0]
    ctype = msg.get_content_type()
    report_type = (msg.get_param("report-type") or "").lower() if ctype == "multipart/report" else ""
    is_bounce = report_type == "delivery-status" or (
        local in {"mailer-daemon", "postmaster"} and (ctype == "multipart/report" or bool(report_text) or _looks_like_bounce(msg))
    )
    auto = (
        (bool(auto_submitted) and auto_submitted != "no")
        or precedence in AUTO_PRECEDENCE
        or bool(_header(msg, "X-Autoreply").strip())
        or bool(_header(msg, "X-Autorespond").strip())
        or bool(_header(msg, "X-Autoreply-From").strip())
        or _header(msg, "X-Auto-Response-Suppress").strip().lower() in {"all", "oof"} and bool(_header(msg, "In-Reply-To"))
        or local in {"mailer-daemon", "postmaster"}
        or report_type in {"delivery-status", "disposition-notification"}
        or _raw_header(msg, "Return-Path").strip() == "<>"
    )
    bounce: dict = {}
    if is_bounce:
        bounce = {"message_id": "", "recipient": "", "status": "", "diagnostic": ""}
        for text in report_text:
            mid = re.search(r"^Message-ID:\s*(<[^<>\s]+>)", text, re.I | re.M)
            if mid and not bounce["message_id"]:
                bounce["message_id"] = mid.group(1)
            for key, field in (("recipient", "Final-Recipient"), ("status", "Status"), ("diagnostic", "Diagnostic-Code")):
                found = re.search(rf"^{field}:\s*(.+(?:\n\s+.+)*)", text, re.I | re.M)
                if found and not bounce[key]:
                    value = " ".join(found.group(1).split())
                    bounce[key] = value.split(";", 1)[-1].strip() if key == "recipient" else value[:300]
        if not bounce["message_id"]:
            refs = MESSAGE_ID.findall(_raw_header(msg, "In-Reply-To"))
            bounce["message_id"] = refs[0] if refs else ""
    return auto, bounce


def _looks_like_bounce(msg: EmailMessage) -> bool:
    subject = _header(msg, "Subject").lower()
    return any(word in subject for word in ("undeliver", "returned mail", "delivery status notification", "delivery failure", "failure notice"))
