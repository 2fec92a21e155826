"""The SQLite forms of the two hand-written SQL reports (the embedded default has no percentile_cont and no
LATERAL) give the same numbers as PostgreSQL on the same rows. Runs on Python's own sqlite3, with datetimes
stored the way Django's SQLite backend stores them."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

from reports.sql import _sqlite_percentile, concurrency_sql, percentile_sql, seconds_between

T0 = datetime(2026, 3, 2, 9, 0)


def db(rows: list[tuple]) -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE tickets_ticket (id INTEGER PRIMARY KEY, team_id INTEGER, assignee_id INTEGER, channel TEXT, created_at TEXT, first_response_at TEXT, resolved_at TEXT, last_message_at TEXT, merged_into_id INTEGER)")
    conn.executemany("INSERT INTO tickets_ticket (team_id, assignee_id, channel, created_at, first_response_at, resolved_at, last_message_at) VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
    return conn


def ts(seconds: float | None) -> str | None:
    return None if seconds is None else (T0 + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S.%f")


def test_percentiles_match_percentile_cont():
    # Same values as the PostgreSQL report test: team 1 [60, 120, 180, 240], team 2 [30, 600].
    rows = [(1, None, "email", ts(0), ts(s), None, ts(0)) for s in (240, 60, 180, 120)] + [(2, None, "sms", ts(0), ts(s), None, ts(0)) for s in (600, 30)]
    conn = db(rows)
    value = seconds_between("t.first_response_at", "t.created_at", vendor="sqlite")
    where = "FROM tickets_ticket t WHERE t.first_response_at IS NOT NULL"
    by_team = conn.execute(percentile_sql(value_sql=value, group_sql="t.team_id", from_where_sql=where, vendor="sqlite")).fetchall()
    overall = conn.execute(percentile_sql(value_sql=value, group_sql="0", from_where_sql=where, vendor="sqlite")).fetchall()
    rounded = {g: (n, round(p50, 3), round(p90, 3)) for g, n, p50, p90 in by_team + overall}
    assert rounded == {1: (4, 150.0, 222.0), 2: (2, 315.0, 543.0), 0: (6, 150.0, 420.0)}


def test_single_value_percentile_is_the_value():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE r (g, v, i, n)")
    conn.execute("INSERT INTO r VALUES (1, 900.0, 0, 1)")
    assert conn.execute(f"SELECT {_sqlite_percentile(0.5)}, {_sqlite_percentile(0.9)} FROM r").fetchone() == (900.0, 900.0)


def test_concurrency_matches_postgres():
    # agent 7: 0–600 and 300–600 overlap (2); 1800–3000 alone. agent 8: 0–900 (also overlapping agent 7 → 3 overall).
    rows = [
        (1, 7, "chat", ts(0), None, ts(600), ts(600)),
        (1, 7, "chat", ts(300), None, ts(600), ts(600)),
        (1, 7, "chat", ts(1800), None, None, ts(3000)),
        (1, 8, "chat", ts(0), None, ts(900), ts(900)),
    ]
    sql, params = concurrency_sql("FROM tickets_ticket t WHERE t.channel = 'chat' AND t.merged_into_id IS NULL", [], vendor="sqlite")
    got = sorted(db(rows).execute(sql, params).fetchall())
    assert got == [(7, 3, 2, 3), (8, 1, 1, 3)]
