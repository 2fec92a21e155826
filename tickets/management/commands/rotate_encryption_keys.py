"""Re-encrypt every encrypted field under the first key of FIELD_ENCRYPTION_KEYS and recompute blind indexes.

Rotation: put the new key first in FIELD_ENCRYPTION_KEYS (keep the old ones after it), run this command,
then drop the old keys. Lookups keep working throughout: they try the hash under every configured key.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from tickets.crypto import EncryptedTextField, blind_index

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt personal data and credentials under the first FIELD_ENCRYPTION_KEYS key."

    def handle(self, *args, **options):
        total = 0
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            count = 0
            pks = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
            for start in range(0, len(pks), BATCH):
                with transaction.atomic():
                    for obj in model._default_manager.select_for_update().filter(pk__in=pks[start : start + BATCH]):
                        # Reading decrypts with any key; saving encrypts with the first key.
                        updates = {f.attname: getattr(obj, f.attname) for f in fields}
                        for hashed, source in _hash_fields(model):
                            value = getattr(obj, source)
                            updates[hashed] = blind_index(value) if value else ""
                        model._default_manager.filter(pk=obj.pk).update(**updates)  # update() encrypts via get_prep_value
                        count += 1
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows re-encrypted")
        self.stdout.write(self.style.SUCCESS(f"Done: {total} rows."))


def _hash_fields(model) -> list[tuple[str, str]]:
    """Blind-index columns follow the convention `<field>_hash` beside an encrypted `<field>`."""
    names = {f.name for f in model._meta.concrete_fields}
    return [(f"{f.name}_hash", f.name) for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField) and f"{f.name}_hash" in names]

