"""A local HTTP server speaking Twilio's REST wire format and Meta's Graph API, recording every request.

The real `twilio` SDK and `requests` talk to it through TWILIO_API_BASE / META_GRAPH_BASE / META_MEDIA_BASE.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

ACCOUNT_SID = "AC32e56335e4ecf7fa5a941feb46723358"
AUTH_TOKEN = "twilio-test-auth-token"
PAGE_TOKEN = "EAAG-page-token-for-tests"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 200
PDF = b"%PDF-1.4\n% test\n" + b"0" * 100
MP3 = b"ID3\x03\x00\x00\x00" + b"\x00" * 300


@dataclass
class Recorded:
    method: str
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def form(self) -> dict:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Provider:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    fail: dict[str, int] = field(default_factory=dict)  # path regex -> HTTP status to answer
    graph_error: dict | None = None  # next Send API answer is this error
    profiles: dict[str, dict] = field(default_factory=dict)
    next_sids: list[str] = field(default_factory=list)  # SIDs the next created messages get

    def sent(self, kind: str) -> list[Recorded]:
        patterns = {
            "twilio": r"/2010-04-01/Accounts/[^/]+/Messages\.json$",
            "graph": r"/v19\.0/[^/]+/messages$",
            "profile": r"/v19\.0/\d+$",
        }
        return [r for r in self.requests if re.search(patterns[kind], r.path)]


def start_provider() -> tuple[Provider, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    provider = Provider(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.provider = provider  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return provider, server


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep test output quiet
        pass

    @property
    def provider(self) -> Provider:
        return self.server.provider  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _handle(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = Recorded(method, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in self.headers.items()}, body)
        self.provider.requests.append(record)
        for pattern, status in self.provider.fail.items():
            if re.search(pattern, parts.path):
                return self._json(status, {"code": 20500, "message": "Internal Server Error", "status": status})
        path = parts.path
        if path.startswith("/2010-04-01/"):
            return self._twilio(method, path, record)
        if path.startswith("/v19.0/"):
            return self._graph(method, path, record)
        if path.startswith("/v/"):  # Meta's CDN
            return self._bytes(PDF if path.endswith(".pdf") else JPEG, "application/pdf" if path.endswith(".pdf") else "image/jpeg")
        self._json(404, {"error": "not found"})

    # ------------------------------------------------------------ Twilio
    def _twilio(self, method: str, path: str, record: Recorded) -> None:
        expected = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        if record.headers.get("authorization") != expected:
            return self._json(401, {"code": 20003, "message": "Authenticate", "more_info": "https://www.twilio.com/docs/errors/20003", "status": 401})
        if method == "POST" and path.endswith("/Messages.json"):
            form = record.form
            if form.get("To", "").endswith("+15005550009"):  # Twilio's magic "cannot receive SMS" number
                return self._json(400, {"code": 21614, "message": "'To' number is not a valid mobile number", "more_info": "https://www.twilio.com/docs/errors/21614", "status": 400})
            sid = self.provider.next_sids.pop(0) if self.provider.next_sids else "SM" + secrets.token_hex(16)
            return self._json(201, {
                "account_sid": ACCOUNT_SID, "api_version": "2010-04-01", "body": form.get("Body", ""),
                "date_created": "Tue, 04 Mar 2025 10:15:00 +0000", "date_sent": None, "date_updated": "Tue, 04 Mar 2025 10:15:00 +0000",
                "direction": "outbound-api", "error_code": None, "error_message": None, "from": form.get("From"),
                "messaging_service_sid": None, "num_media": "0", "num_segments": "1", "price": None, "price_unit": "USD",
                "sid": sid, "status": "queued", "subresource_uris": {"media": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}/Media.json"},
                "to": form.get("To"), "uri": f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json",
            })  # fmt: skip
        if method == "GET" and "/Media/" in path:
            return self._bytes(JPEG, "image/jpeg")
        if method == "GET" and "/Recordings/" in path:
            return self._bytes(MP3, "audio/mpeg")
        self._json(404, {"code": 20404, "message": "The requested resource was not found", "status": 404})

    # ------------------------------------------------------------ Graph API
    def _graph(self, method: str, path: str, record: Recorded) -> None:
        if record.headers.get("authorization") != f"Bearer {PAGE_TOKEN}":
            return self._json(400, {"error": {"message": "Invalid OAuth access token.", "type": "OAuthException", "code": 190, "fbtrace_id": "A1"}})
        if method == "POST" and path.endswith("/messages"):
            if self.provider.graph_error is not None:
                error, self.provider.graph_error = self.provider.graph_error, None
                return self._json(400, {"error": error})
            payload = record.json
            return self._json(200, {"recipient_id": payload["recipient"]["id"], "message_id": "m_" + secrets.token_urlsafe(40)})
        psid = path.rsplit("/", 1)[-1]
        if method == "GET" and psid in self.provider.profiles:
            return self._json(200, {"id": psid, **self.provider.profiles[psid]})
        self._json(400, {"error": {"message": "Unsupported get request.", "type": "GraphMethodException", "code": 100, "error_subcode": 33}})

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _bytes(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


# ---------------------------------------------------------------- pytest fixtures (imported by conftests)
import pytest  # noqa: E402

PUBLIC_BASE = "https://support.example.com"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "verify-me-please"


@pytest.fixture
def provider(settings):
    provider, server = start_provider()
    settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
    settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
    settings.TWILIO_API_BASE = provider.url
    settings.PUBLIC_BASE_URL = PUBLIC_BASE
    settings.META_APP_SECRET = APP_SECRET
    settings.META_VERIFY_TOKEN = VERIFY_TOKEN
    settings.META_GRAPH_BASE = provider.url + "/v19.0"
    settings.META_MEDIA_BASE = provider.url
    yield provider
    server.shutdown()
    server.server_close()


@pytest.fixture
def eager_celery():
    """Outbound sends run inside the test (the same code path as the worker's task)."""
    from helpdesk.celery import app

    before = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = before
