"""The embedded default runs on SQLite: the search tests run again there (FTS5 backend), in a child pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(connection.vendor == "sqlite", reason="already running on SQLite")
def test_search_suite_passes_on_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'kb.sqlite3'}", "VAR_DIR": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-rs", "tests/knowledge/test_search.py", "tests/knowledge/test_portal.py"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=290,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert " passed" in result.stdout
    assert "SQLite index maintenance" not in result.stdout  # the SQLite-only test ran, not skipped
