"""Talking to Twilio: request signatures, the REST client with an overridable base URL, media downloads.

`TWILIO_API_BASE` (e.g. a local test server) replaces the scheme and host of every `*.twilio.com` URL the
SDK builds and of the media/recording URLs Twilio sends us, keeping path and query.
"""

from __future__ import annotations

import logging
import os
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)
from twilio.rest import Client

from tickets.attachments import DownloadError, download_limited

log = logging.getLogger(__name__)

MEDIA_TIMEOUT = 15  # seconds per download; Twilio waits about 15 s for our webhook answer


def signature_valid(request: HttpRequest) -> bool:
    """Check `X-Twilio-Signature` against the URL Twilio was configured with: PUBLIC_BASE_URL + path + query
    when set (we may sit behind a proxy that rewrote host and scheme), else the request's own absolute URL."""
    signature = request.headers.get(SIGNATURE_HEADER, "")
    signing = request.headers.get(SIGNATURE_SETTINGS_HEADER, "")
    if signing:
        # A Webhook Rule signs with a SharedKey and names the algorithm; the Auth Token is not used then.
        secret = getattr(settings, "TWILIO_WEBHOOK_SHARED_KEY_SECRET", "") or os.environ.get("TWILIO_WEBHOOK_SHARED_KEY_SECRET", "")
        if not secret:
            log.warning("Twilio signed a webhook with a SharedKey; set TWILIO_WEBHOOK_SHARED_KEY_SECRET to accept it")
    else:
        secret = settings.TWILIO_AUTH_TOKEN
    if not secret or not signature:
        return False  # an unconfigured desk accepts nothing: a missing token must not mean "no check"
    url = public_url(request.get_full_path(), request)
    return RequestValidator(secret).validate(url, request.POST, signature, get_signature_algorithm(signing))


def public_url(path: str, request: HttpRequest | None = None) -> str:
    """The absolute URL Twilio uses for `path` on this desk."""
    if settings.PUBLIC_BASE_URL:
        return settings.PUBLIC_BASE_URL + path
    if request is not None:
        return request.build_absolute_uri(path)
    return ""


def api_url(url: str) -> str:
    """Point a Twilio URL at TWILIO_API_BASE when it is set."""
    base = settings.TWILIO_API_BASE.rstrip("/")
    if not base:
        return url
    parts = urlsplit(url)
    if not (parts.hostname or "").endswith("twilio.com"):
        return url
    return base + parts.path + (f"?{parts.query}" if parts.query else "")


class BaseOverrideHttpClient(TwilioHttpClient):
    """The SDK's own requests-based client, with every twilio.com URL sent to TWILIO_API_BASE instead."""

    def request(self, method, url, params=None, data=None, headers=None, auth=None, timeout=None, allow_redirects=False):
        return super().request(method, api_url(url), params=params, data=data, headers=headers, auth=auth,
                               timeout=timeout, allow_redirects=allow_redirects)  # fmt: skip


def rest_client() -> Client:
    quiet = logging.getLogger("phone.twilio_http")  # the SDK logs every request at INFO: keep it out of logs
    quiet.setLevel(logging.WARNING)
    http_client = BaseOverrideHttpClient(timeout=20, logger=quiet)
    return Client(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN, http_client=http_client)


def download(url: str, *, max_bytes: int | None = None) -> tuple[bytes, str]:
    """Fetch a media or recording URL Twilio gave us, with the account's credentials. Returns (bytes, type).

    Only https URLs on twilio.com are fetched (Twilio redirects media to its CDN, which we follow)."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not (parts.hostname or "").endswith("twilio.com"):
        raise DownloadError("not a Twilio URL")
    return download_limited(api_url(url), auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN), timeout=MEDIA_TIMEOUT, max_bytes=max_bytes)
