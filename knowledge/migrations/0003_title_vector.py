"""PostgreSQL: a title/tags-only tsvector with its own GIN index (bounded ranking of broad queries), and a
GiST trigram index for nearest-word typo suggestions."""

from django.db import migrations


def forwards(apps, schema_editor):
    from knowledge.search import PG_TITLE_INDEX_SQL

    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_TITLE_INDEX_SQL:
            schema_editor.execute(statement)


def backwards(apps, schema_editor):
    from knowledge.search import PG_TITLE_INDEX_REVERSE_SQL

    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_TITLE_INDEX_REVERSE_SQL:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_search_index")]

    operations = [migrations.RunPython(forwards, backwards)]
