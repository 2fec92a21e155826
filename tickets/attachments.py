"""Storing attachments: size limit, content-type check, random names on disk."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.files.base import ContentFile

from .inbound import InboundAttachment
from .models import Attachment, Message

# Types a browser would execute or render as active content. They are kept (nothing a customer sent is lost)
# but labelled as opaque bytes, and downloads are always `attachment` + nosniff + sandbox CSP anyway.
ACTIVE_TYPES = {
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript", "application/javascript",
    "application/x-javascript", "text/xml", "application/xml", "application/x-msdownload", "application/x-sh",
}  # fmt: skip
MAGIC = {
    b"\x89PNG\r\n\x1a\n": "image/png",
    b"\xff\xd8\xff": "image/jpeg",
    b"GIF87a": "image/gif",
    b"GIF89a": "image/gif",
    b"%PDF-": "application/pdf",
}


def checked_content_type(declared: str, filename: str, content: bytes) -> str:
    """The type we store: what the bytes are when we can tell, never an active type."""
    for magic, sniffed in MAGIC.items():
        if content.startswith(magic):
            return sniffed
    declared = (declared or "").split(";")[0].strip().lower()
    if not declared or declared == "application/octet-stream":
        declared = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    if declared in ACTIVE_TYPES or declared.startswith("image/") and declared not in MAGIC.values():
        return "application/octet-stream"
    return declared


def safe_filename(name: str) -> str:
    name = (name or "attachment").replace("\\", "/").split("/")[-1]
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '"\r\n')
    return name.strip()[:200] or "attachment"


def store_attachment(message: Message, attachment: InboundAttachment, *, kept: list | None = None) -> dict | None:
    """Store it on the message. Returns None, or a dict describing why it was refused (kept on the message).
    `kept`: the stored Attachment is appended to it (announcing the message then needs no query)."""
    filename = safe_filename(attachment.filename)
    size = len(attachment.content)
    if size > settings.ATTACHMENT_MAX_BYTES:
        return {"filename": filename, "size": size, "reason": "too_large"}
    stored = Attachment(
        message=message,
        filename=filename,
        content_type=checked_content_type(attachment.content_type, filename, attachment.content),
        size=size,
        content_id=attachment.content_id.strip("<>")[:255],
        inline=attachment.inline,
    )
    stored.file.save(filename, ContentFile(attachment.content), save=False)
    stored.save()
    if kept is not None:
        kept.append(stored)
    return None


class DownloadError(Exception):
    """A channel's media could not be fetched; the message says why (kept on the message, text is stored)."""


def download_limited(
    url: str, *, auth: tuple[str, str] | None = None, timeout: float = 20.0, max_bytes: int | None = None
) -> tuple[bytes, str]:
    """GET a provider's media URL, streaming, refusing more than `max_bytes` (default ATTACHMENT_MAX_BYTES).
    Returns (bytes, content type)."""
    import requests

    limit = max_bytes or settings.ATTACHMENT_MAX_BYTES
    try:
        with requests.get(url, auth=auth, timeout=timeout, stream=True) as response:
            if response.status_code != 200:
                raise DownloadError(f"HTTP {response.status_code}")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    raise DownloadError("too large")
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("Content-Type", "")
    except requests.RequestException as exc:
        raise DownloadError(type(exc).__name__) from exc
