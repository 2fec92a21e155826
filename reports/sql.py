"""Vendor-specific SQL fragments. PostgreSQL is the production target (percentile_cont); SQLite, the embedded
default, gets the same answers from window functions (linear interpolation between the two nearest ranks,
exactly what percentile_cont computes)."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connection


def is_postgres(vendor: str | None = None) -> bool:
    return (vendor or connection.vendor) == "postgresql"


def seconds_between(later: str, earlier: str, vendor: str | None = None) -> str:
    """SQL for `later - earlier` in seconds (column names are ours, never user input)."""
    if is_postgres(vendor):
        return f"EXTRACT(EPOCH FROM ({later} - {earlier}))"
    return f"ROUND((julianday({later}) - julianday({earlier})) * 86400.0, 3)"  # julianday is a float: keep ms


def percentiles(*, value_sql: str, group_sql: str, from_where_sql: str, params: Sequence, ps: Sequence[float] = (0.5, 0.9)) -> dict:
    """{group: {"n": count, "p50": ..., "p90": ...}} of `value_sql` over the rows of `from_where_sql`
    (which must already exclude NULL values), grouped by `group_sql`."""
    names = [f"p{round(p * 100)}" for p in ps]
    sql = percentile_sql(value_sql=value_sql, group_sql=group_sql, from_where_sql=from_where_sql, ps=ps)
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        rows = cursor.fetchall()
    return {row[0]: {"n": row[1], **{name: (float(v) if v is not None else None) for name, v in zip(names, row[2:], strict=True)}} for row in rows}


def percentile_sql(*, value_sql: str, group_sql: str, from_where_sql: str, ps: Sequence[float] = (0.5, 0.9), vendor: str | None = None) -> str:
    """SELECT g, n, p... for `percentiles` (separate so the SQLite form can be checked on its own)."""
    if is_postgres(vendor):
        cols = ", ".join(f"percentile_cont({p}) WITHIN GROUP (ORDER BY v)" for p in ps)
        sql = f"SELECT g, COUNT(*), {cols} FROM (SELECT {group_sql} AS g, {value_sql} AS v {from_where_sql}) d GROUP BY g"  # noqa: S608 - fragments are ours, values are parameters
    else:
        cols = ", ".join(_sqlite_percentile(p) for p in ps)
        sql = (
            f"WITH d AS (SELECT {group_sql} AS g, {value_sql} AS v {from_where_sql}), "  # noqa: S608 - as above
            "r AS (SELECT g, v, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) - 1 AS i, COUNT(*) OVER (PARTITION BY g) AS n FROM d) "
            f"SELECT g, MAX(n), {cols} FROM r GROUP BY g"
        )
    return sql


def percentiles_by_team(*, metrics: dict[str, str], from_where_sql: str, params: Sequence) -> dict:
    """{team id or ALL: {metric: {"n", "p50", "p90"}}} for several duration metrics at once.

    PostgreSQL: one scan, GROUP BY ROLLUP (percentile_cont skips NULLs, so each metric counts only its own
    rows). SQLite: one windowed query per metric and grouping."""
    if not is_postgres():
        out: dict = {}
        for name, value_sql in metrics.items():
            where = f"{from_where_sql} AND ({value_sql}) IS NOT NULL"
            for group_sql in ("t.team_id", "'__all__'"):
                for key, stats in percentiles(value_sql=value_sql, group_sql=group_sql, from_where_sql=where, params=params).items():
                    out.setdefault(key, {})[name] = stats
        return out
    cols, names = [], list(metrics)
    for name in names:
        cols += [f"COUNT({name})", f"percentile_cont(0.5) WITHIN GROUP (ORDER BY {name})", f"percentile_cont(0.9) WITHIN GROUP (ORDER BY {name})"]
    inner = ", ".join(f"{sql} AS {name}" for name, sql in metrics.items())
    sql = f"SELECT GROUPING(team_id), team_id, {', '.join(cols)} FROM (SELECT t.team_id, {inner} {from_where_sql}) d GROUP BY ROLLUP(team_id)"  # noqa: S608 - fragments are ours
    out = {}
    for row in fetch(sql, params):
        key = "__all__" if row[0] else row[1]
        values = row[2:]
        out[key] = {
            name: {"n": values[3 * i], "p50": _float(values[3 * i + 1]), "p90": _float(values[3 * i + 2])} for i, name in enumerate(names)
        }
    return out


def concurrency_sql(from_where_sql: str, params: list, vendor: str | None = None) -> tuple[str, list]:
    """Rows (agent, chats, peak concurrent for the agent, peak concurrent overall): each chat is +1 at its
    start and -1 at its end (resolved, else last message); a running sum over time gives the open count.
    At equal times ends sort before starts. PostgreSQL reads the table once (LATERAL VALUES)."""
    if is_postgres(vendor):
        events = f"SELECT t.assignee_id AS a, e.ts, e.d {from_where_sql.replace('FROM tickets_ticket t', 'FROM tickets_ticket t CROSS JOIN LATERAL (VALUES (t.created_at, 1), (COALESCE(t.resolved_at, t.last_message_at), -1)) AS e(ts, d)', 1)}"
        args = list(params)
    else:
        events = (
            f"SELECT t.assignee_id AS a, t.created_at AS ts, 1 AS d {from_where_sql} "
            f"UNION ALL SELECT t.assignee_id, COALESCE(t.resolved_at, t.last_message_at), -1 {from_where_sql}"
        )
        args = list(params) + list(params)
    sql = (
        f"WITH ev AS ({events}), "  # noqa: S608 - fragments are ours, values are parameters
        "run AS (SELECT a, d, SUM(d) OVER (PARTITION BY a ORDER BY ts, d ROWS UNBOUNDED PRECEDING) AS ca, "
        "SUM(d) OVER (ORDER BY ts, d ROWS UNBOUNDED PRECEDING) AS cx FROM ev) "
        "SELECT a, SUM(CASE WHEN d = 1 THEN 1 ELSE 0 END), MAX(ca), MAX(MAX(cx)) OVER () FROM run GROUP BY a"
    )
    return sql, args


def _float(value) -> float | None:
    return float(value) if value is not None else None


def _sqlite_percentile(p: float) -> str:
    """lo + frac * (hi - lo) over the ranked rows, the same arithmetic as PostgreSQL's percentile_cont."""
    pos = f"({p} * (n - 1))"
    lo_i = f"CAST({pos} AS INTEGER)"
    frac = f"({pos} - {lo_i})"
    lo = f"MAX(CASE WHEN i = {lo_i} THEN v END)"
    hi = f"COALESCE(MAX(CASE WHEN i = {lo_i} + 1 THEN v END), {lo})"
    return f"({lo} + MAX({frac}) * ({hi} - {lo}))"


def fetch(sql: str, params: Sequence) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()
