"""Databases that applied an early draft of 0001 lack `TicketSla.last_status_event` (the field is in the
final 0001's state). Add the column where it is missing; a no-op everywhere else."""

from django.db import migrations


def add_missing_column(apps, schema_editor):
    model = apps.get_model("workflows", "TicketSla")
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, model._meta.db_table)}
    if "last_status_event" not in columns:
        schema_editor.add_field(model, model._meta.get_field("last_status_event"))


class Migration(migrations.Migration):
    dependencies = [("workflows", "0002_slapolicy_pause_when_pending")]

    operations = [migrations.RunPython(add_missing_column, migrations.RunPython.noop)]
