"""Backfill the directory's keyed name tokens for contacts that existed before this app."""

import re

from django.db import migrations


def forwards(apps, schema_editor):
    from tickets.crypto import blind_index

    contact_model = apps.get_model("tickets", "Contact")
    token_model = apps.get_model("insights", "NameToken")
    batch = []
    for contact in contact_model.objects.all().iterator(chunk_size=500):
        prefixes = set()
        for word in re.findall(r"\w+", f"{contact.name} {contact.email}".lower()):
            prefixes.update(word[:end] for end in range(2, min(len(word), 24) + 1))
        batch.extend(token_model(contact_id=contact.pk, token_hash=blind_index("name-token:" + p)) for p in prefixes)
        if len(batch) > 5000:
            token_model.objects.bulk_create(batch, ignore_conflicts=True)
            batch = []
    token_model.objects.bulk_create(batch, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("insights", "0001_initial"), ("tickets", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
