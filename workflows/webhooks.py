"""Outbound webhooks: signed JSON POSTs to admin-registered URLs, never to internal networks.

Signature: `X-Helpdesk-Signature: sha256=<hex HMAC-SHA256 of the raw body with the hook's secret>`.
`X-Helpdesk-Event` names the event and `X-Helpdesk-Delivery` is the delivery id (the same on every retry,
so receivers can drop duplicates).

Security decision: the destination host is resolved here and *every* address it resolves to must be public
(not loopback, private, link-local, multicast, reserved, unspecified, shared or IPv4-mapped internal).
The connection then goes to the checked address (no second lookup an attacker could rebind), and each
redirect hop is checked the same way. A host listed in the hook's `allowed_hosts` skips the check: that is
how an admin deliberately reaches an internal service.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.utils import timezone

from tickets import events
from tickets.models import Message, Ticket
from tickets.representations import message_dict, ticket_dict

from .models import DeliveryState, Webhook, WebhookDelivery, WebhookEvent

TIMEOUT_SECONDS = 10
MAX_REDIRECTS = 3
MAX_ATTEMPTS = 6
USER_AGENT = "helpdesk-webhooks/1"


class RefusedDestination(Exception):
    """The URL points at an address we do not send to (or cannot be resolved)."""


class DeliveryError(Exception):
    """Temporary failure: connection error, timeout, 5xx or 429. Retried with backoff."""


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def check_destination(url: str, allowed_hosts: list[str]) -> list[tuple[Any, ...]]:
    """Resolve the URL's host; return the addresses to connect to, or raise RefusedDestination."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RefusedDestination("only http and https URLs with a host")
    host = parts.hostname.lower().rstrip(".")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise RefusedDestination(f"cannot resolve {host}") from exc
    if not infos:
        raise RefusedDestination(f"cannot resolve {host}")
    allowed = {h.lower().rstrip(".") for h in allowed_hosts or []}
    if host not in allowed:
        for info in infos:
            address = ipaddress.ip_address(info[4][0].split("%")[0])
            if is_internal(address):
                raise RefusedDestination(f"{host} resolves to an internal address ({address})")
    return infos


def is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None and is_internal(mapped):
            return True
    return bool(
        address.is_loopback or address.is_private or address.is_link_local or address.is_multicast
        or address.is_reserved or address.is_unspecified or not address.is_global
    )  # fmt: skip


def post(url: str, body: bytes, headers: dict[str, str], allowed_hosts: list[str]) -> Response:
    """POST with the destination checked on every hop. Raises RefusedDestination or DeliveryError."""
    for _hop in range(MAX_REDIRECTS + 1):
        infos = check_destination(url, allowed_hosts)
        status, location, content = _post_once(url, infos, body, headers)
        if status in (301, 302, 303, 307, 308) and location:
            url = urljoin(url, location)
            continue
        return Response(status, content)
    raise DeliveryError("too many redirects")


def enqueue(kind: str, data: dict[str, Any]) -> list[str]:
    """Create one delivery per active hook subscribed to `kind` and hand each to Celery."""
    if kind not in WebhookEvent.values:
        return []
    active = events.memo("workflows.webhooks", lambda: list(Webhook.objects.filter(active=True)))
    hooks = [h for h in active if kind in (h.events or [])]
    if not hooks:
        return []
    payload = {"event": kind, "created_at": timezone.now().isoformat(), "data": _event_data(kind, data)}
    from .tasks import deliver_webhook

    ids = []
    for hook in hooks:
        delivery = WebhookDelivery.objects.create(webhook=hook, event=kind, payload=payload)
        deliver_webhook.delay(str(delivery.pk))
        ids.append(str(delivery.pk))
    return ids


def attempt(delivery_id: str) -> WebhookDelivery | None:
    """One delivery attempt; records the outcome. Raises DeliveryError when a retry should follow."""
    delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.state in (DeliveryState.SUCCESS, DeliveryState.FAILED):
        return delivery
    hook = delivery.webhook
    body = json.dumps({**delivery.payload, "delivery": str(delivery.pk)}, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Helpdesk-Event": delivery.event,
        "X-Helpdesk-Delivery": str(delivery.pk),
        "X-Helpdesk-Signature": sign(hook.secret, body),
    }
    delivery.attempts += 1
    now = timezone.now()
    try:
        response = post(hook.url, body, headers, hook.allowed_hosts)
    except RefusedDestination as exc:
        return _finish(delivery, DeliveryState.FAILED, None, f"refused: {exc}", now)
    except DeliveryError as exc:
        _retry_or_fail(delivery, None, str(exc), now)
        raise
    if 200 <= response.status < 300:
        return _finish(delivery, DeliveryState.SUCCESS, response.status, "", now)
    if response.status >= 500 or response.status == 429:
        _retry_or_fail(delivery, response.status, f"HTTP {response.status}", now)
        raise DeliveryError(f"HTTP {response.status}")
    return _finish(delivery, DeliveryState.FAILED, response.status, f"HTTP {response.status}", now)


# ---------------------------------------------------------------- internals


def _post_once(url: str, infos, body: bytes, headers: dict[str, str]) -> tuple[int, str, bytes]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    last_error: Exception | None = None
    for family, socktype, proto, _canon, sockaddr in infos:
        connection = _PinnedConnection(parts.scheme, host, parts.port, (family, socktype, proto, sockaddr))
        try:
            connection.request("POST", path, body=body, headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]})
            response = connection.getresponse()
            return response.status, response.getheader("Location", ""), response.read(64 * 1024)
        except (OSError, http.client.HTTPException) as exc:
            last_error = exc
        finally:
            connection.close()
    raise DeliveryError(f"connection failed: {type(last_error).__name__}")


class _PinnedConnection:
    """An HTTP(S) connection to an address already checked (TLS still verifies the host name)."""

    def __init__(self, scheme: str, host: str, port: int | None, address) -> None:
        self.scheme, self.host, self.address = scheme, host, address
        self.port = port or (443 if scheme == "https" else 80)
        self.conn = http.client.HTTPConnection(host, self.port, timeout=TIMEOUT_SECONDS)
        self.conn.connect = self._connect  # type: ignore[method-assign]

    def _connect(self) -> None:
        family, socktype, proto, sockaddr = self.address
        sock = socket.socket(family, socktype, proto)
        sock.settimeout(TIMEOUT_SECONDS)
        sock.connect(sockaddr)
        if self.scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
        self.conn.sock = sock

    def request(self, *args, **kwargs) -> None:
        self.conn.request(*args, **kwargs)

    def getresponse(self) -> http.client.HTTPResponse:
        return self.conn.getresponse()

    def close(self) -> None:
        self.conn.close()


def _retry_or_fail(delivery: WebhookDelivery, code: int | None, error: str, now) -> None:
    final = delivery.attempts >= MAX_ATTEMPTS
    _finish(delivery, DeliveryState.FAILED if final else DeliveryState.RETRYING, code, error, now)


def _finish(delivery: WebhookDelivery, state: str, code: int | None, error: str, now) -> WebhookDelivery:
    delivery.state = state
    delivery.response_code = code
    delivery.error = error[:255]
    delivery.log = [*delivery.log, {"at": now.isoformat(), "code": code, "error": error[:255]}][-20:]
    if state in (DeliveryState.SUCCESS, DeliveryState.FAILED):
        delivery.finished_at = now
    delivery.save(update_fields=["state", "response_code", "error", "log", "attempts", "finished_at"])
    return delivery


def _event_data(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind.startswith("ticket."):
        ticket = Ticket.objects.select_related("contact", "team", "assignee").prefetch_related("tags").filter(pk=data.get("ticket_id")).first()
        return {"ticket": ticket_dict(ticket)} if ticket else dict(data)
    if kind == "message.created":
        message = Message.objects.select_related("author_agent", "author_contact").filter(pk=data.get("message_id")).first()
        return {"message": message_dict(message)} if message else dict(data)
    return dict(data)
