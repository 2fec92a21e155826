"""Talking to Meta: webhook signatures, the Graph API (profile, Send API) at `META_GRAPH_BASE`, and
attachment downloads. Page tokens go in the Authorization header, never in a URL that could be logged."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from urllib.parse import urlsplit

import requests
from django.conf import settings

from tickets.attachments import DownloadError, download_limited

log = logging.getLogger(__name__)

TIMEOUT = 15


class GraphError(Exception):
    def __init__(self, message: str, *, status: int = 0, code: int | None = None, subcode: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.subcode = status, code, subcode

    @property
    def transient(self) -> bool:
        # 5xx, rate limits (4, 17, 32, 613) and Meta's "temporary" codes (1, 2) are worth retrying.
        return self.status == 0 or self.status >= 500 or self.code in {1, 2, 4, 17, 32, 613}


def signature_valid(body: bytes, header: str) -> bool:
    """X-Hub-Signature-256: `sha256=<hex HMAC-SHA256 of the raw body>` with the app secret, compared in
    constant time on the bytes received, before anything parses them."""
    secret = settings.META_APP_SECRET
    if not secret or not header.startswith("sha256="):
        return False  # no secret configured means nothing is trusted, not "no check"
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


def graph_url(path: str) -> str:
    return settings.META_GRAPH_BASE.rstrip("/") + "/" + path.lstrip("/")


def profile_name(psid: str, token: str) -> str:
    """The sender's name, when the page may read it (it often may not: then "")."""
    if not token:
        return ""
    try:
        response = requests.get(
            graph_url(psid), params={"fields": "first_name,last_name,name"}, headers=_auth(token), timeout=TIMEOUT
        )
        if response.status_code != 200:
            return ""
        data = response.json()
    except (requests.RequestException, ValueError):
        return ""
    name = data.get("name") or " ".join(p for p in (data.get("first_name"), data.get("last_name")) if p)
    return str(name or "")[:200]


def send_text(*, page_id: str, token: str, psid: str, text: str) -> str:
    """One Send API call. Returns the message id; raises GraphError."""
    body = {"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": {"text": text, "metadata": "helpdesk:reply"}}
    try:
        response = requests.post(graph_url(f"{page_id}/messages"), json=body, headers=_auth(token), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise GraphError(type(exc).__name__) from exc
    try:
        data = response.json()
    except ValueError:
        data = {}
    if response.status_code != 200 or "error" in data:
        error = data.get("error") or {}
        raise GraphError(
            str(error.get("message") or f"HTTP {response.status_code}")[:200],
            status=response.status_code, code=error.get("code"), subcode=error.get("error_subcode"),
        )  # fmt: skip
    return str(data.get("message_id", ""))


def download(url: str) -> tuple[bytes, str]:
    """Fetch an attachment from Meta's CDN (URL from a signed webhook). `META_MEDIA_BASE`, when set (tests,
    a local mirror), replaces scheme and host and keeps path and query."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise DownloadError("not an https URL")
    base = (getattr(settings, "META_MEDIA_BASE", "") or os.environ.get("META_MEDIA_BASE", "")).rstrip("/")
    if base:
        url = base + parts.path + (f"?{parts.query}" if parts.query else "")
    return download_limited(url, timeout=TIMEOUT)


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
