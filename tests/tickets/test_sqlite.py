"""The embedded default (`./run` with nothing configured) runs on SQLite: the ingest path's tests run there too,
in a child pytest (the batch lookups use PostgreSQL-only SQL on PostgreSQL and the ORM elsewhere)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="already running on SQLite")
def test_ingest_suite_passes_on_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'ingest.sqlite3'}", "VAR_DIR": str(tmp_path)}
    tests = ["tests/tickets/test_ingest.py", "tests/tickets/test_locking.py", "tests/tickets/test_ingest_many.py", "tests/workflows/test_sla.py", "tests/mail/test_services.py"]
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", *tests],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=290,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and " failed" not in result.stdout
