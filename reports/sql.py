"""Vendor-specific SQL fragments. PostgreSQL is the production target (percentile_cont); SQLite, the embedded
default, gets the same answers from window functions (linear interpolation between the two nearest ranks,
exactly what percentile_cont computes)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def is_postgres() -> bool:
    return connection.vendor == "postgresql"


def seconds_between(later: str, earlier: str) -> str:
    """SQL for `later - earlier` in seconds (column names are ours, never user input)."""
    if is_postgres():
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"((julianday({later}) - julianday({earlier})) * 86400.0)"


def percentiles(*, value_sql: str, group_sql: str, from_where_sql: str, params: Sequence, ps: Sequence[float] = (0.5, 0.9)) -> dict:
    """{group: {"n": count, "p50": ..., "p90": ...}} of `value_sql` over the rows of `from_where_sql`
    (which must already exclude NULL values), grouped by `group_sql`."""
    names = [f"p{round(p * 100)}" for p in ps]
    if is_postgres():
        cols = ", ".join(f"percentile_cont({p}) WITHIN GROUP (ORDER BY v)" for p in ps)
        sql = f"SELECT g, COUNT(*), {cols} FROM (SELECT {group_sql} AS g, {value_sql} AS v {from_where_sql}) d GROUP BY g"  # noqa: S608 - fragments are ours, values are parameters
    else:
        cols = ", ".join(_sqlite_percentile(p) for p in ps)
        sql = (
            f"WITH d AS (SELECT {group_sql} AS g, {value_sql} AS v {from_where_sql}), "  # noqa: S608 - as above
            "r AS (SELECT g, v, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) - 1 AS i, COUNT(*) OVER (PARTITION BY g) AS n FROM d) "
            f"SELECT g, MAX(n), {cols} FROM r GROUP BY g"
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    return {row[0]: {"n": row[1], **{name: (float(v) if v is not None else None) for name, v in zip(names, row[2:], strict=True)}} for row in rows}


def _sqlite_percentile(p: float) -> str:
    pos = f"({p} * (n - 1))"
    lo = f"CAST({pos} AS INTEGER)"
    frac = f"({pos} - {lo})"
    return f"SUM(CASE WHEN i = {lo} THEN v * (1 - {frac}) WHEN i = {lo} + 1 THEN v * {frac} ELSE 0 END)"


def fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()
