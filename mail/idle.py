"""IMAP IDLE: new mail within seconds instead of at the next poll interval.

The Celery worker process runs one `IdleWatcher` thread per active mailbox that has IDLE enabled (started
by `start_supervisor` on the worker's `worker_ready` signal). A watcher only listens: when the server says
a message arrived (EXISTS) it calls `on_new_mail(mailbox_id)`, which queues the ordinary poll task. Fetching,
storing and flagging stay in one place (`imap.poll`). A watcher reconnects with backoff after a dropped
connection or a server restart, and polls once after every (re)connect to catch up with what it missed.
Servers without IDLE are left to beat's interval polling. A cache lock per mailbox keeps one watcher per
mailbox across worker processes.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable

from django.core.cache import cache
from django.db import close_old_connections

from .imap import ImapError, _capabilities, _close, connect
from .models import Mailbox

log = logging.getLogger(__name__)

IDLE_SECONDS = 300  # re-issue IDLE well before the 29 minutes after which servers may drop it
SUPERVISE_SECONDS = 30
LOCK_SECONDS = 90


class IdleWatcher(threading.Thread):
    def __init__(self, mailbox_id: int, on_new_mail: Callable[[int], None], *, idle_seconds: float = IDLE_SECONDS) -> None:
        super().__init__(name=f"mail-idle-{mailbox_id}", daemon=True)
        self.mailbox_id = mailbox_id
        self.on_new_mail = on_new_mail
        self.idle_seconds = idle_seconds
        self.stopped = threading.Event()
        self.supported: bool | None = None  # known after the first connection
        self.connected = threading.Event()
        self._conn = None

    def stop(self) -> None:
        """Ask the thread to end; a command on the connection ends the IDLE it is blocked in at once."""
        self.stopped.set()
        conn = self._conn
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.noop(callback=lambda *_args: None)

    def run(self) -> None:
        backoff = 1.0
        while not self.stopped.is_set():
            conn = None
            try:
                mailbox = Mailbox.objects.filter(pk=self.mailbox_id, active=True, use_idle=True).first()
                if mailbox is None:
                    return
                conn = self._conn = connect(mailbox)
                typ, _data = conn.select(mailbox.imap_folder, readonly=True)
                if typ != "OK":
                    raise ImapError(f"cannot open {mailbox.imap_folder}")
                self.supported = "IDLE" in _capabilities(conn)
                if not self.supported:
                    return  # beat's interval polling covers this server
                self.connected.set()
                self._notify()  # whatever arrived while we were not listening
                backoff = 1.0
                while not self.stopped.is_set():
                    conn.idle(timeout=self.idle_seconds)
                    _typ, exists = conn.response("EXISTS")
                    _typ, recent = conn.response("RECENT")
                    if any(exists or ()) or any(recent or ()):
                        self._notify()
            except Exception as exc:  # noqa: BLE001 - dropped connections, restarts, timeouts: reconnect
                self.connected.clear()
                log.info("IDLE on mailbox %s interrupted (%s); reconnecting in %.0f s", self.mailbox_id, type(exc).__name__, backoff)
                self.stopped.wait(backoff)
                backoff = min(backoff * 2, 60.0)
            finally:
                self._conn = None
                if conn is not None:
                    _close(conn)
                with contextlib.suppress(Exception):
                    close_old_connections()

    def _notify(self) -> None:
        try:
            self.on_new_mail(self.mailbox_id)
        except Exception:  # a failing poll is recorded on the mailbox; keep listening
            log.exception("polling mailbox %s after IDLE failed", self.mailbox_id)


def queue_poll(mailbox_id: int) -> None:
    from .tasks import poll_mailbox

    poll_mailbox.delay(mailbox_id)


class Supervisor(threading.Thread):
    """Keeps one watcher per active IDLE mailbox in this process (and none for mailboxes watched elsewhere)."""

    def __init__(self, on_new_mail: Callable[[int], None] = queue_poll, *, idle_seconds: float = IDLE_SECONDS) -> None:
        super().__init__(name="mail-idle-supervisor", daemon=True)
        self.on_new_mail = on_new_mail
        self.idle_seconds = idle_seconds
        self.watchers: dict[int, IdleWatcher] = {}
        self.token = uuid.uuid4().hex
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.supervise()
            except Exception:  # the database may be briefly away; try again next round
                log.exception("IDLE supervisor round failed")
            finally:
                close_old_connections()
            self.stopped.wait(SUPERVISE_SECONDS)
        for watcher in self.watchers.values():
            watcher.stop()

    def supervise(self) -> None:
        wanted = set(Mailbox.objects.filter(active=True, use_idle=True).values_list("pk", flat=True))
        for mailbox_id in list(self.watchers):
            watcher = self.watchers[mailbox_id]
            if mailbox_id not in wanted or not watcher.is_alive():
                watcher.stop()
                del self.watchers[mailbox_id]
                if cache.get(_lock(mailbox_id)) == self.token:
                    cache.delete(_lock(mailbox_id))
        for mailbox_id in wanted:
            key = _lock(mailbox_id)
            if mailbox_id in self.watchers:
                cache.set(key, self.token, LOCK_SECONDS)
            elif cache.add(key, self.token, LOCK_SECONDS):
                watcher = IdleWatcher(mailbox_id, self.on_new_mail, idle_seconds=self.idle_seconds)
                self.watchers[mailbox_id] = watcher
                watcher.start()

    def stop(self) -> None:
        self.stopped.set()


def _lock(mailbox_id: int) -> str:
    return f"mail:idle:{mailbox_id}"


_supervisor: Supervisor | None = None


def start_supervisor(**_kwargs) -> None:
    """Celery `worker_ready` handler."""
    global _supervisor
    if _supervisor is None or not _supervisor.is_alive():
        _supervisor = Supervisor()
        _supervisor.start()
