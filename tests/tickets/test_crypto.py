from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from tickets.inbound import InboundMessage
from tickets.models import Contact, ContactIdentity
from tickets.services import ingest, resolve_contact

pytestmark = pytest.mark.django_db


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - test helper, fixed names
        return cursor.fetchone()[0]


def test_personal_data_is_encrypted_at_rest_and_read_back_in_clear():
    message = ingest(InboundMessage(channel="email", external_id="<e1@x>", sender_kind="email", sender_address="jane@example.org", sender_name="Jane Doe", text="hi"))
    contact = message.author_contact
    stored_name = raw("tickets_contact", "name", contact.pk)
    stored_email = raw("tickets_contact", "email", contact.pk)
    assert "Jane" not in stored_name and "jane@" not in stored_email
    assert Contact.objects.get(pk=contact.pk).name == "Jane Doe"
    identity = ContactIdentity.objects.get(contact=contact)
    assert "jane@" not in raw("tickets_contactidentity", "address", identity.pk)
    assert identity.address == "jane@example.org"


def test_key_rotation_reencrypts_and_lookups_keep_working(settings):
    contact = resolve_contact(kind="email", address="rotate@example.org", name="Rita Rotate")
    old_key = settings.FIELD_ENCRYPTION_KEYS[0]
    before = raw("tickets_contact", "name", contact.pk)
    new_key = Fernet.generate_key().decode()
    settings.FIELD_ENCRYPTION_KEYS = [new_key, old_key]
    # Before the rotation runs, the contact is still found (lookups try every key's hash).
    assert resolve_contact(kind="email", address="rotate@example.org").pk == contact.pk
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    after = raw("tickets_contact", "name", contact.pk)
    assert after != before
    # The old key can now be dropped: everything reads and resolves under the new key alone.
    settings.FIELD_ENCRYPTION_KEYS = [new_key]
    assert Contact.objects.get(pk=contact.pk).name == "Rita Rotate"
    assert resolve_contact(kind="email", address="ROTATE@example.org").pk == contact.pk
    assert Contact.objects.count() == 1


def test_a_removed_key_stops_decrypting_even_what_was_read_before(settings):
    contact = resolve_contact(kind="email", address="gone@example.org", name="Gina Gone")
    assert Contact.objects.get(pk=contact.pk).name == "Gina Gone"  # read (and remembered) under the old key
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(ValueError, match="cannot be decrypted"):
        Contact.objects.get(pk=contact.pk)
