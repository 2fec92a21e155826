"""Writes about contacts: custom attributes, notes, merging two contacts, and the name-token index."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from tickets import events
from tickets.crypto import blind_index
from tickets.models import Contact

from .models import ContactMerge, ContactNote, NameToken

log = logging.getLogger(__name__)

MAX_ATTRIBUTES = 50
MAX_KEY = 64
MAX_VALUE = 1000
MAX_NOTE = 5000
_KEY = re.compile(r"^[\w.\- ]{1,64}$", re.UNICODE)


class InvalidAttributes(ValueError):
    """Attribute changes that cannot be stored; the message says why."""


class MergeError(ValueError):
    """Two contacts that cannot be merged; the message says why."""


def update_attributes(*, contact: Contact, changes: dict[str, Any], actor: AbstractBaseUser | None = None) -> Contact:
    """Merge `changes` into the contact's custom attributes; a `None` value removes the key.

    Values are strings, numbers or booleans. Applying the same changes twice leaves the same result.
    Also the entry point for the chat widget's identify call.
    """
    if not isinstance(changes, dict):
        raise InvalidAttributes(_("Attributes must be a JSON object."))
    for key, value in changes.items():
        if not isinstance(key, str) or not _KEY.match(key):
            raise InvalidAttributes(_("Invalid attribute name “%(key)s”: 1–%(max)d letters, digits, spaces, “.”, “-” or “_”.") % {"key": str(key)[:70], "max": MAX_KEY})
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise InvalidAttributes(_("Attribute “%(key)s”: the value must be text, a number, true/false or null.") % {"key": key})
        if isinstance(value, str) and len(value) > MAX_VALUE:
            raise InvalidAttributes(_("Attribute “%(key)s”: the value is longer than %(max)d characters.") % {"key": key, "max": MAX_VALUE})
    with transaction.atomic():
        locked = Contact.objects.select_for_update().get(pk=contact.pk)
        attributes = dict(locked.attributes or {})
        for key, value in changes.items():
            if value is None:
                attributes.pop(key, None)
            else:
                attributes[key] = value
        if len(attributes) > MAX_ATTRIBUTES:
            raise InvalidAttributes(_("A contact can have at most %(max)d attributes.") % {"max": MAX_ATTRIBUTES})
        if attributes != locked.attributes:
            locked.attributes = attributes
            Contact.objects.filter(pk=locked.pk).update(attributes=attributes)
            events.publish(
                "contact.updated", groups=[], frame=None, data={"contact_id": locked.pk, "actor_id": actor.pk if actor else None}
            )
    contact.attributes = locked.attributes
    return contact


def add_note(*, contact: Contact, author: AbstractBaseUser, text: str, client_id: str = "") -> ContactNote:
    text = (text or "").strip()
    if not text:
        raise ValueError(_("The note is empty."))
    if len(text) > MAX_NOTE:
        raise ValueError(_("The note is longer than %(max)d characters.") % {"max": MAX_NOTE})
    client_id = client_id[:64]
    if client_id:
        existing = ContactNote.objects.filter(author=author, client_id=client_id).first()
        if existing:
            return existing
    try:
        with transaction.atomic():
            return ContactNote.objects.create(contact=contact, author=author, text=text, client_id=client_id)
    except IntegrityError:
        return ContactNote.objects.get(author=author, client_id=client_id)


def merge_contacts(*, source: Contact, target: Contact, actor: AbstractBaseUser | None) -> Contact:
    """`source` is the same person as `target`: every ticket, identity, message and note of `source` moves to
    `target`, attributes are combined (target's win), empty name/email/phone are filled, and `source` keeps
    only `merged_into`. Merging again (a retried request) returns the target and changes nothing."""
    target = final_contact(target)
    if source.pk == target.pk:
        raise MergeError(_("A contact cannot be merged into itself."))
    with transaction.atomic():
        rows = {c.pk: c for c in Contact.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")}
        source, target = rows[source.pk], rows[target.pk]
        if target.merged_into_id:
            raise MergeError(_("The target contact was merged into another contact meanwhile; try again."))
        if source.merged_into_id:
            if source.merged_into_id == target.pk:
                return target
            raise MergeError(_("This contact was already merged into another contact."))
        moved = _move_related(source, target)
        target.attributes = {**(source.attributes or {}), **(target.attributes or {})}
        for field in ("name", "email", "phone"):
            if not getattr(target, field) and getattr(source, field):
                setattr(target, field, getattr(source, field))
        target.save()
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        ContactMerge.objects.create(source=source, target=target, actor=actor, moved=moved)
        index_contact(target)
        events.publish(
            "contact.merged",
            groups=[],
            frame=None,
            data={"source_id": source.pk, "target_id": target.pk, "actor_id": actor.pk if actor else None, "moved": moved},
        )
    return target


def final_contact(contact: Contact) -> Contact:
    """Follow `merged_into` to the contact that is kept (bounded, in case of a cycle)."""
    seen = set()
    while contact.merged_into_id and contact.pk not in seen:
        seen.add(contact.pk)
        contact = Contact.objects.get(pk=contact.merged_into_id)
    return contact


def index_contact(contact: Contact, *, new: bool = False) -> None:
    """Rebuild the keyed name/email tokens of one contact (for the directory's prefix search). A `new`
    contact has none to remove."""
    hashes = _token_hashes(contact)
    if not new:
        NameToken.objects.filter(contact=contact).exclude(token_hash__in=hashes).delete()
    NameToken.objects.bulk_create([NameToken(contact=contact, token_hash=h) for h in hashes], ignore_conflicts=True)


def index_new_contacts(contacts: list[Contact]) -> None:
    """`index_contact` for many contacts that have no tokens yet, in one INSERT. A contact has a token per
    prefix of every word of its name and email (some thirty): on PostgreSQL the rows go in as two arrays
    rather than as thousands of model instances (this was 15% of the mail poller's time)."""
    pairs = [(contact.pk, h) for contact in contacts for h in _token_hashes(contact)]
    if not pairs:
        return
    if connection.vendor != "postgresql":
        NameToken.objects.bulk_create([NameToken(contact_id=pk, token_hash=h) for pk, h in pairs], ignore_conflicts=True)
        return
    table = connection.ops.quote_name(NameToken._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (contact_id, token_hash) SELECT * FROM unnest(%s::bigint[], %s::varchar[]) ON CONFLICT DO NOTHING",  # noqa: S608 - model name
            [[pk for pk, _h in pairs], [h for _pk, h in pairs]],
        )


def _token_hashes(contact: Contact) -> set[str]:
    return {token_hash(p) for p in name_prefixes(f"{contact.name} {contact.email}")}


def name_prefixes(text: str) -> set[str]:
    prefixes = set()
    for word in re.findall(r"\w+", (text or "").lower()):
        for end in range(2, min(len(word), 24) + 1):
            prefixes.add(word[:end])
    return prefixes


def token_hash(prefix: str) -> str:
    return blind_index("name-token:" + prefix)


# Rows that describe the merge itself or are rebuilt afterwards do not move.
_NOT_MOVED = {("insights", "contactmerge"), ("insights", "nametoken")}


def _move_related(source: Contact, target: Contact) -> dict[str, int]:
    """Repoint every foreign key to `source` (tickets, identities, messages, notes, other apps' rows)."""
    moved: dict[str, int] = {}
    # include_hidden: other apps point at contacts with related_name="+" too (chat sessions).
    for relation in Contact._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete and relation.one_to_many):
            continue
        model = relation.related_model
        if (model._meta.app_label, model._meta.model_name) in _NOT_MOVED:
            continue
        name = relation.field.name
        try:
            with transaction.atomic():
                count = model._base_manager.filter(**{name: source}).exclude(pk=source.pk if model is Contact else None).update(**{name: target})
        except IntegrityError:
            # A uniqueness rule of another app forbids two such rows on one contact: they stay on the
            # merged contact, which still points to the target.
            log.warning("contact merge: %s.%s rows left on the merged contact", model._meta.label, name)
            continue
        if count:
            moved[f"{model._meta.label_lower}.{name}"] = count
    return moved
