"""Helpers shared by the benchmarks: environment, Django setup, percentiles."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def setup_django(default_db: str = "postgres://postgres@127.0.0.1:5432/helpdesk_bench") -> None:
    os.environ.setdefault("DATABASE_URL", default_db)
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")  # the in-process test client
    os.environ.setdefault("CHANNEL_PREFIX", "hdbench")
    os.environ.setdefault("CACHE_PREFIX", "hdbench")
    # Benchmark data only: a fixed key so every checkout can read the benchmark database it loaded.
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2htYXJrLW9ubHkta2V5LWRvLW5vdC11c2UtMDA=")
    import django

    django.setup()


def ensure_database() -> None:
    """Create the benchmark database if it does not exist (PostgreSQL)."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    if not db["ENGINE"].endswith("postgresql"):
        return
    with psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"] or "postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{db["NAME"]}"')


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def timed(fn: Callable[[], object], runs: int, warmup: int = 3) -> list[float]:
    """Milliseconds for each of `runs` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(values: list[float]) -> str:
    return f"median {statistics.median(values):.1f} ms, p95 {percentile(values, 95):.1f} ms, max {max(values):.1f} ms (n={len(values)})"
