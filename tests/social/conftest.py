import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from tests.phone.providers import APP_SECRET, PAGE_TOKEN, eager_celery, provider  # noqa: F401

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "social"
PAGE_ID = "152846578697265"


def raw(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str = APP_SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def meta_post(client, body: bytes, *, signature: str | None = None):
    """POST the raw bytes exactly as Meta does, signed over those bytes."""
    return client.post("/hooks/messenger/", data=body, content_type="application/json",
                       headers={"X-Hub-Signature-256": sign(body) if signature is None else signature})  # fmt: skip


def fresh_text(psid: str, mid: str, text: str) -> bytes:
    """A message sent just now (the corpus files are from 2025, outside any 24-hour window)."""
    now = int(time.time() * 1000)
    return json.dumps({"object": "page", "entry": [{"time": now, "id": PAGE_ID, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": now, "message": {"mid": mid, "text": text}}]}]},
        separators=(",", ":")).encode()  # fmt: skip


@pytest.fixture
def page(db):
    from social.models import MessengerPage
    from tests.factories import TeamFactory

    return MessengerPage.objects.create(page_id=PAGE_ID, name="Example Garden Shop", team=TeamFactory(name="Social"), access_token=PAGE_TOKEN)
