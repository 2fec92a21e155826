"""Real-time events: built here, sent after commit, to exactly the groups that may see them.

Groups (ARCHITECTURE): `agent.<user id>`, `team.<team id>` (`team.none` for tickets without a team),
`admins` (admins see every ticket), `ticket.<id>` (watchers), `visitor.<session id>` (the chat app's).

`publish` defers to `transaction.on_commit`: nothing is announced for a rolled-back change. The channel layer
is at-most-once; every frame carries ids so clients catch up with `resume`.

Listeners (`subscribe`) run after commit, for feature apps (gamification, SLA, automation, webhooks) that
must never slow or break the write path: in the Celery worker by default (`EVENT_LISTENERS = "worker"`), so
acking a customer's message never waits for them; a listener that raises is logged and skipped. In that mode
a commit only appends to the process's ordered delivery queue: one thread sends the frames and hands the
listener notifications of everything that gathered meanwhile to the broker as one task.
"""

from __future__ import annotations

import asyncio
import atexit
import itertools
import json
import logging
import os
import queue
import secrets
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from functools import partial
from typing import Any, TypeVar

from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction

log = logging.getLogger(__name__)

Listener = Callable[[str, dict[str, Any]], None]
_listeners: dict[str, list[Listener]] = defaultdict(list)

EVENT_HANDLER = "hd.event"  # consumers implement `hd_event`

T = TypeVar("T")
_batch_memo: ContextVar[dict[str, Any] | None] = ContextVar("hd_event_batch_memo", default=None)


@contextmanager
def listener_batch(notes: list | None = None):
    """Listeners of the events inside this block share what `memo` loads and can see the batch's other
    events (`batch_notes`); the worker wraps each batch of [kind, data] notes in one."""
    token = _batch_memo.set({"__notes__": list(notes or ())})
    try:
        yield
    finally:
        _batch_memo.reset(token)


def batch_notes() -> list:
    """[kind, data] of every event of the batch being handled (empty outside a batch): a listener may do its
    work for all of them at once and `memo` the result."""
    cache = _batch_memo.get()
    return cache["__notes__"] if cache is not None else []


def memo(key: str, loader: Callable[[], T]) -> T:
    """Configuration a listener reads for every event (active rules, SLA policies, webhooks, models): loaded
    once per batch of events the worker handles instead of once per event and listener. Outside a batch
    (inline listeners) it simply loads. A batch covers what one process published within a moment, so an
    edit made meanwhile applies from the next batch on."""
    cache = _batch_memo.get()
    if cache is None:
        return loader()
    if key not in cache:
        cache[key] = loader()
    return cache[key]


def per_ticket(key: str, ticket_id: int, load_many: Callable[[list[int]], dict[int, T]], kinds: tuple[str, ...] = ("ticket.updated",)) -> T:
    """`load_many(ids)[ticket_id]`, loaded once for every ticket of the batch's events of `kinds` (`memo`):
    a listener that reads a row per event reads them all in one query. `load_many` returns an entry for every
    id it is given (and no query for none); a ticket outside the batch (inline listeners) is loaded alone."""
    loaded = memo(key, lambda: load_many(batch_ticket_ids(*kinds)))
    if ticket_id in loaded:
        return loaded[ticket_id]
    return load_many([ticket_id])[ticket_id]


def batch_ticket_ids(*kinds: str) -> list[int]:
    """Ticket ids of the batch's events of these kinds, in order, once each (empty outside a batch)."""
    return list(dict.fromkeys(data["ticket_id"] for kind, data in batch_notes() if kind in kinds and data.get("ticket_id")))


def subscribe(kind: str, listener: Listener) -> None:
    """Call `listener(kind, data)` after commit for every published event of `kind` ("*" for all)."""
    if listener not in _listeners[kind]:
        _listeners[kind].append(listener)


def unsubscribe(kind: str, listener: Listener) -> None:
    if listener in _listeners.get(kind, ()):
        _listeners[kind].remove(listener)


def publish(kind: str, *, groups: Iterable[str], frame: dict[str, Any] | None, data: dict[str, Any] | None = None) -> None:
    """Send `frame` to `groups` and notify listeners of `kind`, once the current transaction commits."""
    transaction.on_commit(partial(_deliver, kind, tuple(groups), frame, data or {}))


def team_group(team_id: int | None) -> str:
    return f"team.{team_id}" if team_id else "team.none"


def ticket_groups(ticket) -> list[str]:
    """Who sees queue changes of a ticket: its team, its assignee, admins."""
    groups = [team_group(ticket.team_id), "admins"]
    if ticket.assignee_id:
        groups.append(f"agent.{ticket.assignee_id}")
    return groups


def message_groups(message) -> list[str]:
    """Who sees a new message: watchers of the ticket and its assignee (internal notes go to agents only)."""
    groups = [f"ticket.{message.ticket_id}"]
    if message.ticket.assignee_id:
        groups.append(f"agent.{message.ticket.assignee_id}")
    return groups


def send_to_groups(groups: Iterable[str], frame: dict[str, Any], **extra: Any) -> None:
    """Send a frame to groups now (not tied to a transaction). Lost frames are recovered by `resume`."""
    group_send_sync(groups, {"type": EVENT_HANDLER, "frame": frame, **extra})


def group_send_sync(groups: Iterable[str], event: dict[str, Any]) -> None:
    """`group_send` a raw channel-layer event to each group, from any synchronous caller.

    Sends run on one long-lived event loop per process (its own thread), so the channel layer keeps its Redis
    connection instead of opening one per call, as `async_to_sync` in a plain thread would. With
    `EVENT_LISTENERS = "worker"` (production) the caller does not wait: sends join the process's ordered
    delivery queue (see `_Dispatcher`); inline (tests) they complete before this returns.
    """
    targets = list(dict.fromkeys(groups))
    if not targets:
        return
    if settings.EVENT_LISTENERS == "worker":
        _dispatcher().put(("send", targets, event))
        return
    _send_now([(targets, event)])


def flush(timeout: float = 10.0) -> bool:
    """Wait until everything queued for delivery by this process so far has been handed on (frames sent,
    listener batches queued). For short-lived processes and tests; False if it did not finish in time."""
    dispatcher = _current
    if dispatcher is None or dispatcher.pid != os.getpid() or threading.current_thread() is dispatcher.thread:
        return True  # nothing queued here, or called from the delivery thread itself (an eager task)
    done = threading.Event()
    dispatcher.put(("flush", done))
    return done.wait(timeout)


def _send_now(sends: list[tuple[list[str], dict[str, Any]]]) -> None:
    layer = get_channel_layer()
    if layer is None or not sends:
        return
    try:
        asyncio.run_coroutine_threadsafe(send_events(layer, sends), _sender_loop()).result(timeout=10)
    except Exception:
        log.exception("channel layer sends to %s did not complete", [t for t, _e in sends])


async def send_events(layer: Any, sends: list[tuple[list[str], dict[str, Any]]]) -> None:
    """Send each event to its groups on `layer` (of the running loop), in order; failures are logged, not
    raised (the DB is the record: a lost frame is recovered by `resume`)."""
    try:
        if await _publish_pipelined(layer, sends):
            return
    except Exception:
        log.exception("channel layer sends to %s failed", [t for t, _e in sends])
        return
    for targets, event in sends:
        for group in targets:
            try:
                await layer.group_send(group, event)
            except Exception:
                log.exception("channel layer send to %s failed", group)


_eid_source: tuple[int, str, Any] | None = None


def new_event_id() -> str:
    """A short id, unique across processes, for one published event (`eid`: an agent in several of its
    groups gets it once). A counter behind a random per-process prefix: no system call per event."""
    global _eid_source
    source = _eid_source
    if source is None or source[0] != os.getpid():
        source = _eid_source = (os.getpid(), secrets.token_hex(5), itertools.count())
    return f"{source[1]}{next(source[2]):x}"


def frame_text(event: dict[str, Any]) -> str:
    """The JSON text of an `hd.event`'s frame: serialized once by the sender when it went through
    `_publish_pipelined`, else here."""
    text = event.get("text")
    return text if isinstance(text, str) else json.dumps(event["frame"])


async def _publish_pipelined(layer: Any, sends: list[tuple[list[str], dict[str, Any]]]) -> bool:
    """With `RedisPubSubChannelLayer`: every frame of a delivery batch in one Redis pipeline per shard, in
    order, each event serialized once (its frame as JSON text, see `frame_text`). `group_send` serializes the event again for every group and waits for
    a round trip per group under the shard's lock: a chat message's ticket frame (team, admins, assignee) and
    message frame (watchers, assignee) were five sequential round trips before the agent's copy left. False
    (send one by one) for other layers. Uses the layer's internals as of channels_redis 4.3 (pinned)."""
    loop_layer = layer._get_layer() if hasattr(layer, "_get_layer") else None
    if loop_layer is None or not all(hasattr(loop_layer, name) for name in ("_get_group_channel_name", "_get_shard")):
        return False
    by_shard: dict[int, tuple[Any, list[tuple[str, bytes]]]] = {}
    for targets, event in sends:
        if isinstance(event.get("frame"), dict):
            # Serialized once here instead of by every socket the group reaches (a ticket frame goes to each
            # agent of the team).
            event = {**{k: v for k, v in event.items() if k != "frame"}, "text": json.dumps(event["frame"])}
        payload = layer.serialize(event)
        for group in targets:
            channel = loop_layer._get_group_channel_name(group)
            shard = loop_layer._get_shard(channel)
            by_shard.setdefault(id(shard), (shard, []))[1].append((channel, payload))
    for shard, items in by_shard.values():
        async with shard._lock:
            shard._ensure_redis()
            async with shard._redis.pipeline(transaction=False) as pipe:
                for channel, payload in items:
                    pipe.publish(channel, payload)
                await pipe.execute()
    return True


_sender: tuple[int, asyncio.AbstractEventLoop] | None = None
_sender_lock = threading.Lock()


def _sender_loop() -> asyncio.AbstractEventLoop:
    """The process's sender loop, started on first use (and again in a forked child, e.g. a Celery worker)."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender[0] != os.getpid():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="helpdesk-events", daemon=True).start()
            _sender = (os.getpid(), loop)
        return _sender[1]


class _Dispatcher:
    """One ordered delivery queue per process (worker mode). Writers only append to it, so a commit never
    waits on Redis or the broker; one thread drains whatever has gathered: frames in order, and the listener
    notifications of the whole batch as one Celery task (one broker round trip for a batch of messages
    instead of one per event). At exit the queue is drained (up to 5 s)."""

    MAX_BATCH = 500
    # Listener notifications wait this long for company: at a steady 100 messages/s a task carries about ten
    # events instead of one or two (each task costs a broker round trip here and tracing, a database session
    # check and configuration reads in the worker). Frames never wait; `flush` sends what is pending at once.
    LISTEN_LINGER = 0.1

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._run, name="helpdesk-dispatch", daemon=True)
        self.thread.start()
        atexit.register(flush, 5.0)

    def put(self, item: tuple) -> None:
        self.queue.put(item)

    def _run(self) -> None:
        pending: list[list] = []
        due = 0.0
        while True:
            batch = self._gather(due - time.monotonic() if pending else None)
            notes = [[item[1], item[2]] for item in batch if item[0] == "listen"]
            if notes and not pending:
                due = time.monotonic() + self.LISTEN_LINGER
            pending.extend(notes)
            flushes = [item[1] for item in batch if item[0] == "flush"]
            try:
                _send_now([(item[1], item[2]) for item in batch if item[0] == "send"])
                if pending and (flushes or len(pending) >= self.MAX_BATCH or time.monotonic() >= due):
                    notes, pending = pending, []
                    _queue_listeners(notes)
            except Exception:  # never let the delivery thread die
                log.exception("event delivery failed for a batch of %s", len(batch))
            for done in flushes:
                done.set()

    def _gather(self, wait: float | None) -> list[tuple]:
        """What has gathered: waits for a first item (at most `wait` seconds, for ever if None), then takes
        whatever else is already queued."""
        batch = []
        try:
            batch.append(self.queue.get(timeout=wait) if wait is None or wait > 0 else self.queue.get_nowait())
        except queue.Empty:
            return batch
        while len(batch) < self.MAX_BATCH:
            try:
                batch.append(self.queue.get_nowait())
            except queue.Empty:
                break
        return batch


_current: _Dispatcher | None = None


def _dispatcher() -> _Dispatcher:
    global _current
    with _sender_lock:
        if _current is None or _current.pid != os.getpid():
            _current = _Dispatcher()
        return _current


def _queue_listeners(notes: list[list]) -> None:
    from .tasks import run_event_batch

    try:
        run_event_batch.delay(notes)
        return
    except Exception:  # broker unreachable: better late in this process than never
        log.exception("could not queue listeners for %s events; running them here", len(notes))
    try:
        for kind, data in notes:
            run_listeners(kind, data)
    finally:
        from django.db import connection

        connection.close()


def run_listeners(kind: str, data: dict[str, Any]) -> None:
    """Call every listener of `kind`; one that raises is logged and the others still run."""
    for listener in (*_listeners.get(kind, ()), *_listeners.get("*", ())):
        try:
            listener(kind, data)
        except Exception:
            log.exception("listener %r for %s failed", listener, kind)


def _deliver(kind: str, groups: tuple[str, ...], frame: dict[str, Any] | None, data: dict[str, Any]) -> None:
    if frame is not None and groups:
        # `eid`: an agent in several of these groups gets the frame once (AgentConsumer.hd_event).
        send_to_groups(groups, frame, ticket=data.get("ticket_id"), team=data.get("team_id"), eid=new_event_id())
    if not (_listeners.get(kind) or _listeners.get("*")):
        return
    if settings.EVENT_LISTENERS == "worker":
        _dispatcher().put(("listen", kind, data))
        return
    run_listeners(kind, data)
