"""The web process's garbage-collector settings (helpdesk.gc_tuning)."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = "import gc, helpdesk.asgi; print(gc.get_freeze_count(), *gc.get_threshold())"


def _probe(**env: str) -> list[int]:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=120, env={**os.environ, **env})
    return [int(x) for x in out.stdout.split()]


def test_the_server_process_freezes_its_loaded_application_and_collects_young_objects_less_often():
    frozen, *thresholds = _probe()
    assert frozen > 50_000  # Django, the apps and their models are out of every later collection's way
    assert thresholds == [20_000, 20, 20]


def test_it_can_be_turned_off():
    assert _probe(HELPDESK_GC_TUNING="0") == [0, 700, 10, 10]  # CPython's defaults
