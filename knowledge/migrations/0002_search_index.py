"""The search index: a generated, weighted tsvector with a GIN index and pg_trgm on PostgreSQL; an FTS5
table with triggers on SQLite (also re-checked after every migrate, see KnowledgeConfig)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


def forwards(apps, schema_editor):
    from knowledge.search import PG_INDEX_SQL, ensure_sqlite_index

    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_INDEX_SQL:
            schema_editor.execute(statement)
    elif schema_editor.connection.vendor == "sqlite":
        ensure_sqlite_index(schema_editor.connection)


def backwards(apps, schema_editor):
    from knowledge.search import PG_INDEX_REVERSE_SQL

    if schema_editor.connection.vendor == "postgresql":
        for statement in PG_INDEX_REVERSE_SQL:
            schema_editor.execute(statement)
    elif schema_editor.connection.vendor == "sqlite":
        for name in ("knowledge_article_fts_ai", "knowledge_article_fts_ad", "knowledge_article_fts_au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}")
        schema_editor.execute("DROP TABLE IF EXISTS knowledge_article_fts")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]

    operations = [TrigramExtension(), migrations.RunPython(forwards, backwards)]
