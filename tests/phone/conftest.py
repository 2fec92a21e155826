import json
from pathlib import Path
from urllib.parse import urlencode

import pytest
from twilio.request_validator import RequestValidator

from tests.phone.providers import AUTH_TOKEN, PUBLIC_BASE, eager_celery, provider  # noqa: F401

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "phone"


def load(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def twilio_post(client, path: str, params: dict, *, base: str = PUBLIC_BASE, token: str = AUTH_TOKEN, signature: str | None = None):
    """POST form-encoded params signed exactly as Twilio signs them (URL + sorted name/value pairs)."""
    if signature is None:
        signature = RequestValidator(token).compute_signature(base + path, params)
    return client.post(path, data=urlencode(params), content_type="application/x-www-form-urlencoded",
                       headers={"X-Twilio-Signature": signature})  # fmt: skip


@pytest.fixture
def desk_number(db):
    from phone.models import PhoneNumber
    from tests.factories import TeamFactory

    team = TeamFactory(name="Phones")
    return PhoneNumber.objects.create(number="+12025550143", team=team, sms=True, whatsapp=True, voice=True, greeting="Welcome to Example Support.")
