"""Model instances from hand-written SQL on the hottest paths, converted exactly as the ORM converts them.

Compiling a query costs more than running it for the small, fixed statements that every chat message runs
(load its session, find its sender, lock its ticket). Those statements are written once per process; their
rows become model instances through each field's database converters (encrypted fields are decrypted, JSON
is decoded, as with the ORM). Instances built from some of a model's fields defer the others (reading one
loads it, as with `.only()`).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import connection
from django.db.models import Model

M = TypeVar("M", bound=Model)


class Rows:
    """Some concrete fields of a model: their columns in a SELECT, and instances from those columns."""

    def __init__(self, model: type[Model], alias: str, names: Sequence[str] | None = None) -> None:
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields if names is None or f.name in names or f.attname in names]
        self.attnames = [f.attname for f in self.fields]
        qn = connection.ops.quote_name
        self.sql = ", ".join(f"{alias}.{qn(f.column)}" for f in self.fields)
        self.converters = [[*connection.ops.get_db_converters(f.get_col(alias)), *f.get_db_converters(connection)] for f in self.fields]

    def __len__(self) -> int:
        return len(self.fields)

    def build(self, values: Sequence[Any]) -> Any:
        converted = []
        for field, value, converters in zip(self.fields, values, self.converters, strict=True):
            for converter in converters:
                value = converter(value, field, connection)
            converted.append(value)
        return self.model.from_db(connection.alias, self.attnames, converted)


@lru_cache(maxsize=64)
def _by_pk(model: type[Model]) -> tuple[str, Rows]:
    rows = Rows(model, "r")
    qn = connection.ops.quote_name
    return f"SELECT {rows.sql} FROM {qn(model._meta.db_table)} r WHERE r.{qn(model._meta.pk.column)} = %s", rows  # noqa: S608 - model names


def get_by_pk(model: type[M], pk: Any) -> M:
    """`model.objects.get(pk=pk)` for a model without a custom manager or default filtering."""
    sql, rows = _by_pk(model)
    with connection.cursor() as cursor:
        cursor.execute(sql, [pk])
        row = cursor.fetchone()
    if row is None:
        raise model.DoesNotExist(f"{model._meta.object_name} matching query does not exist.")
    return rows.build(row)
