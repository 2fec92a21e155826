"""Keeps the directory's keyed name tokens in step with contacts, whoever saves them (ingest, API, admin)."""

from __future__ import annotations

from tickets.models import Contact


def contact_saved(sender, instance: Contact, created: bool = False, raw: bool = False, update_fields=None, **kwargs) -> None:
    if raw or (update_fields is not None and not {"name", "email"} & set(update_fields)):
        return
    from .services import index_contact

    index_contact(instance, new=created)


def contacts_created(sender, contacts: list[Contact], **kwargs) -> None:
    from .services import index_new_contacts

    index_new_contacts(contacts)
