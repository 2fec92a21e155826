"""Garbage-collector settings for the long-running web process (daphne serving `helpdesk.asgi`).

A full (generation 2) collection stops the whole process while it scans every tracked object. With 1,000
open sockets that was 130-220 ms each (measured with `gc.callbacks` under `python -m bench chat`): every chat
message and typing preview in flight waited for it, and the runs where one landed in the measured minute had
a message p99 above 120 ms instead of 60-80. Two standard remedies:

- `gc.freeze()` once the application is loaded: what exists then (modules, Django's settings, URL patterns,
  the ORM's model metadata) lives as long as the process, so it moves to the permanent generation and no
  collection scans it again (full collections ~200 -> ~100 ms with 1,000 sockets).
- Generation 0 collected every 20,000 allocations instead of 700: short-lived objects (frames, ORM rows of
  one message) die by reference counting before a collection sees them, fewer of them are promoted, so the
  older generations grow, and are scanned, much less often (a 12 s run at 100 messages/s with 20% typing:
  ~500 young collections and 45 of generation 1 before, a handful after, no full collection in the window).

Cyclic garbage is still collected; memory per connection is unchanged (bench chat reports RSS/connection).
`HELPDESK_GC_TUNING=0` in the environment keeps Python's defaults.
"""

from __future__ import annotations

import gc

THRESHOLDS = (20_000, 20, 20)


def tune_for_server() -> None:
    """Freeze what the loaded application holds and collect the young generation less often."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
