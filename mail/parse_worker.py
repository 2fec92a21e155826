"""Parsing in a second process while the poller stores the previous batch (`python -m mail.parse_worker`).

Parsing is pure (bytes in, `InboundMessage` out, no database) and about a third of what a poll costs per
message; with a backlog the poller hands each fetched batch to this process and ingests the batch before it
meanwhile, so the two run on two cores. The protocol is private to `ParseWorker`: length-prefixed pickles
over the child's stdin/stdout (trusted: parent and child are the same program). A message the child cannot
parse comes back as None and is parsed again in the poller, where a failure keeps the message whole.

The child imports only `mail.parsing` (no Django), so it starts in a fraction of a second, and it is a plain
subprocess: Celery's worker processes may not start `multiprocessing` children.
"""

from __future__ import annotations

import logging
import pickle
import queue
import struct
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_HEADER = struct.Struct("!Q")


def _write(stream, obj: Any) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read(stream) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError("parse worker closed its pipe")
    (size,) = _HEADER.unpack(header)
    data = stream.read(size)
    if len(data) < size:
        raise EOFError("parse worker closed its pipe")
    return pickle.loads(data)  # noqa: S301 - our own child process, never outside input


class ParseWorker:
    """One child process; `submit` a batch, `result` returns it parsed (None for a message it could not).

    The child's answers are read by a thread of their own as soon as they are written. Otherwise a poller
    handing over batch n+1 while the child is still writing batch n's answer would deadlock as soon as both
    are larger than a pipe's buffer (64 KiB): the child waits for its answer to be read, the poller for its
    batch to be taken."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mail.parse_worker"],
            cwd=Path(__file__).resolve().parent.parent,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        self.pending = 0
        self.broken = False  # set after any failure: the rest of the run parses in the poller
        self.answers: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read_answers, name="parse-worker-reader", daemon=True).start()

    def _read_answers(self) -> None:
        while True:
            try:
                self.answers.put(_read(self.proc.stdout))
            except Exception as exc:  # noqa: BLE001 - EOF or a broken pipe: `result` raises it
                self.answers.put(exc)
                return

    def submit(self, items: list[tuple[bytes, int, int | None, int | None]]) -> None:
        """items: (raw bytes, max bytes, original size, team id) per message."""
        _write(self.proc.stdin, items)
        self.pending += 1

    def result(self, timeout: float = 300.0) -> list:
        """The answer to the oldest batch not yet collected."""
        self.pending -= 1
        try:
            answer = self.answers.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError("parse worker did not answer") from None
        if isinstance(answer, Exception):
            self.answers.put(answer)  # every later call fails the same way
            raise answer
        return answer

    def close(self) -> None:
        if self.pending:  # stopped half-way (an error in the poller): nobody will read what it parsed
            self.proc.kill()
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=5)
        except Exception:  # noqa: BLE001 - a child that will not stop is killed
            self.proc.kill()
            self.proc.wait()


def _parse_all(items: list[tuple[bytes, int, int | None, int | None]]) -> list:
    from mail.parsing import parse_message

    parsed = []
    for raw, max_bytes, original_size, team_id in items:
        try:
            parsed.append(parse_message(raw, team_id=team_id, max_bytes=max_bytes, original_size=original_size))
        except Exception:  # noqa: BLE001 - the poller parses it again and keeps it whole if it fails there too
            parsed.append(None)
    return parsed


def main() -> int:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            items = _read(stdin)
        except EOFError:
            return 0
        _write(stdout, _parse_all(items))


if __name__ == "__main__":
    sys.exit(main())
