"""The IMAP edge: connect, fetch what is new by UID, hand each message to `services.ingest_email`, and only
then mark it seen (or move it). Nothing here decides what a message means.

Position: `Mailbox.uidvalidity` + `Mailbox.last_uid`. A run fetches UIDs above `last_uid` in batches,
ingests every message of a batch (each in its own transaction), flags the batch on the server, and then
advances `last_uid`. A connection that drops anywhere in between leaves `last_uid` behind: the next run
fetches those messages again and `ingest` recognises them by Message-ID (or content hash), so nothing is
lost and nothing is stored twice.
"""

from __future__ import annotations

import contextlib
import logging
import re
import socket
import ssl
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.parser import BytesHeaderParser
from email.policy import compat32
from email.utils import getaddresses

import imaplib2
from django.core.cache import cache
from django.db import connection as db_connection
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Mailbox, Security
from .parsing import MESSAGE_ID, TOKEN

log = logging.getLogger(__name__)

# Messages per fetch and commit once a backlog has ramped up (8, 16, ... so the first tickets appear at once).
# Bigger batches amortize the per-batch round trips (sizes, FETCH, commit, flags): 2,000 messages ingested at
# 512-550 msg/s with 50, 570-649 with 200, 603-697 with 400 (bench email); 200 keeps a batch's ticket locks
# short (a fraction of a second) for agents replying meanwhile. Memory is bounded by BATCH_BYTES either way.
BATCH_SIZE = 200
BATCH_BYTES = 20 * 1024 * 1024  # memory bound of one fetch
TIMEOUT = 30
WORKERS = 1  # ingest lanes (threads) per batch, see ingest_batch; with batched ingest one is fastest
FIRST_BATCH = 8
LOCK_SECONDS = 15 * 60
PARSE_PROCESS_MIN = 200  # new messages from which a run parses in a second process (it starts in ~0.1 s)
FETCH_ITEM = re.compile(rb"UID (\d+)")
SIZE_ITEM = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapError(Exception):
    """A problem with the server or the account, worded for the admin."""


@dataclass
class PollResult:
    fetched: int = 0
    stored: int = 0
    ignored: int = 0
    skipped: bool = False  # another worker holds this mailbox
    uidvalidity_changed: bool = False
    errors: list[str] = field(default_factory=list)


def connect(mailbox: Mailbox, *, timeout: int = TIMEOUT):
    """A logged-in connection, or ImapError with a message an admin can act on."""
    where = f"{mailbox.imap_host}:{mailbox.imap_port}"
    try:
        if mailbox.imap_security == Security.SSL:
            conn = imaplib2.IMAP4_SSL(mailbox.imap_host, mailbox.imap_port, timeout=timeout, ssl_version="tls1_2")
        else:
            conn = imaplib2.IMAP4(mailbox.imap_host, mailbox.imap_port, timeout=timeout)
            if mailbox.imap_security == Security.STARTTLS:
                conn.starttls(ssl_version="tls1_2")
    except socket.gaierror as exc:
        raise ImapError(_("The IMAP host %(host)s could not be found.") % {"host": mailbox.imap_host}) from exc
    except ConnectionRefusedError as exc:
        raise ImapError(_("%(where)s refused the connection: is the port right and the server running?") % {"where": where}) from exc
    except TimeoutError as exc:
        raise ImapError(_("%(where)s did not answer within %(seconds)s seconds.") % {"where": where, "seconds": timeout}) from exc
    except ssl.SSLError as exc:
        raise ImapError(_("The TLS handshake with %(where)s failed: %(error)s") % {"where": where, "error": exc}) from exc
    except (OSError, imaplib2.IMAP4.error) as exc:
        raise ImapError(_("Could not connect to %(where)s: %(error)s") % {"where": where, "error": exc}) from exc
    try:
        conn.login(mailbox.imap_username, mailbox.imap_password)
    except imaplib2.IMAP4.error as exc:
        _close(conn)
        raise ImapError(_("The server rejected the user name or password for %(user)s.") % {"user": mailbox.imap_username}) from exc
    except (OSError, imaplib2.IMAP4.abort) as exc:
        _close(conn)
        raise ImapError(_("The connection to %(where)s dropped during login: %(error)s") % {"where": where, "error": exc}) from exc
    return conn


def test_connection(mailbox: Mailbox) -> str:
    """Log in and open the folder read-only. Returns a short report, raises ImapError."""
    conn = connect(mailbox)
    try:
        typ, data = conn.select(mailbox.imap_folder, readonly=True)
        if typ != "OK":
            raise ImapError(_("The folder %(folder)s does not exist or cannot be opened.") % {"folder": mailbox.imap_folder})
        count = int(data[0]) if data and data[0] else 0
        idle = "IDLE" in _capabilities(conn)
        return _("Connected. %(count)s messages in %(folder)s; IDLE %(idle)s.") % {
            "count": count,
            "folder": mailbox.imap_folder,
            "idle": _("supported") if idle else _("not supported"),
        }
    finally:
        _close(conn)


def poll(
    mailbox_id: int,
    *,
    batch_size: int = BATCH_SIZE,
    after_message: Callable[[int, object], None] | None = None,
    workers: int = WORKERS,
) -> PollResult:
    """Fetch and ingest everything new in one mailbox. Safe to run again at any time.

    `after_message(uid, message)` runs for each message once its batch committed, before the batch is
    flagged on the server (progress reports, and fault-injection in tests). One run per mailbox at a time: a concurrent call returns `skipped`.
    """
    lock_key = f"mail:poll:{mailbox_id}"
    token = uuid.uuid4().hex
    if not cache.add(lock_key, token, LOCK_SECONDS):
        return PollResult(skipped=True)
    conn = None
    result = PollResult()
    try:
        mailbox = Mailbox.objects.select_related("team").get(pk=mailbox_id)
        conn = connect(mailbox)
        _run(conn, mailbox, result, batch_size, after_message, workers)
        Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="")
        return result
    except ImapError as exc:
        _record_error(mailbox_id, str(exc))
        raise
    except (OSError, imaplib2.IMAP4.abort, imaplib2.IMAP4.error) as exc:
        message = _("The connection dropped while fetching mail: %(error)s") % {"error": exc}
        _record_error(mailbox_id, message)
        raise ImapError(message) from exc
    finally:
        if conn is not None:
            _close(conn)
        if cache.get(lock_key) == token:
            cache.delete(lock_key)


def _run(conn, mailbox: Mailbox, result: PollResult, batch_size: int, after_message, workers: int) -> None:
    from .services import MailContext

    typ, _data = conn.select(mailbox.imap_folder)
    if typ != "OK":
        raise ImapError(_("The folder %(folder)s does not exist or cannot be opened.") % {"folder": mailbox.imap_folder})
    uidvalidity = _uidvalidity(conn)
    if mailbox.uidvalidity != uidvalidity:
        # New UIDs for everything: start over; ingest recognises what was stored before.
        result.uidvalidity_changed = mailbox.uidvalidity is not None
        mailbox.uidvalidity, mailbox.last_uid = uidvalidity, 0
        Mailbox.objects.filter(pk=mailbox.pk).update(uidvalidity=uidvalidity, last_uid=0)
    uids = _new_uids(conn, mailbox.last_uid)
    context = MailContext.load()
    parser = _parse_worker() if workers <= 1 and len(uids) >= PARSE_PROCESS_MIN else None
    if parser is None:
        for batch in _batches(conn, uids, batch_size):
            fetched = list(_fetch(conn, batch, mailbox.max_message_bytes))
            _done(conn, mailbox, result, ingest_batch(mailbox, fetched, context=context, workers=workers), after_message)
        return
    # A backlog: batch n+1 is parsed in the second process while batch n is stored here.
    try:
        ahead = None
        for batch in _batches(conn, uids, batch_size):
            fetched = list(_fetch(conn, batch, mailbox.max_message_bytes))
            submitted = _submit(parser, mailbox, fetched)
            if ahead is not None:
                _done(conn, mailbox, result, _ingest_parsed(mailbox, *ahead, context=context), after_message)
            ahead = (fetched, parser if submitted else None)
        if ahead is not None:
            _done(conn, mailbox, result, _ingest_parsed(mailbox, *ahead, context=context), after_message)
    finally:
        if parser is not None:
            parser.close()


def _done(conn, mailbox: Mailbox, result: PollResult, done: list, after_message) -> None:
    for uid, message in done:
        result.fetched += 1
        result.stored += message is not None
        result.ignored += message is None
        if after_message is not None:
            after_message(uid, message)
    if done:
        # Only now, with every message of the batch committed, the server learns they are processed.
        uids_done = [uid for uid, _message in done]
        _mark_processed(conn, mailbox, uids_done)
        mailbox.last_uid = max(uids_done)
        Mailbox.objects.filter(pk=mailbox.pk, last_uid__lt=mailbox.last_uid).update(last_uid=mailbox.last_uid)


def _parse_worker():
    from .parse_worker import ParseWorker

    try:
        return ParseWorker()
    except OSError as exc:
        log.warning("no parse process (%s): parsing in the poller", exc)
        return None


def _submit(parser, mailbox: Mailbox, fetched: list[tuple[int, bytes, int]]) -> bool:
    """Hand a batch to the parse process; False (parsed here, as is the rest of the run) if it is gone."""
    from .services import parse_options

    if parser.broken:
        return False
    max_bytes, team_id = parse_options(mailbox)
    try:
        parser.submit([(raw, max_bytes, size, team_id) for _uid, raw, size in fetched])
        return True
    except (OSError, ValueError) as exc:
        log.warning("parse process failed (%s): parsing in the poller", exc)
        parser.broken = True
        return False


def _ingest_parsed(mailbox: Mailbox, fetched: list[tuple[int, bytes, int]], parser, *, context) -> list:
    """Ingest a batch in one transaction; what the parse process (if any) could not parse is parsed here."""
    from .services import finish_parsed, ingest_parsed_many

    parsed: list = [None] * len(fetched)
    if parser is not None and parser.pending and not parser.broken:
        try:
            answer = parser.result()
        except Exception as exc:  # noqa: BLE001 - a broken child never costs a message: parse here instead
            log.warning("parse process failed (%s): parsing in the poller", exc)
            parser.broken = True
        else:
            if isinstance(answer, list) and len(answer) == len(fetched):
                parsed = answer
            else:
                parser.broken = True
    inbounds = [finish_parsed(p, raw, mailbox=mailbox, original_size=size) for p, (_uid, raw, size) in zip(parsed, fetched, strict=True)]
    with transaction.atomic():
        return list(zip([uid for uid, _raw, _size in fetched], ingest_parsed_many(inbounds, context=context), strict=True))


def ingest_batch(mailbox: Mailbox, fetched: list[tuple[int, bytes, int]], *, context, workers: int = 1) -> list:
    """Ingest fetched (uid, bytes, size) and return (uid, Message | None) in UID order.

    One lane by default: the whole batch goes through `tickets.ingest_many` in one transaction. With
    `workers` > 1, messages that belong together (same thread by Message-ID/References/subject token, or same
    sender) stay in one lane, in order, and lanes run in parallel threads, each in one transaction (this pays
    only when the database is far away: the work is otherwise bound by this process's CPU). Any failure
    raises after every lane finished: nothing of the batch is then flagged on the server, and the next run
    recognises what did commit.
    """
    if workers <= 1:
        return _ingest_lane(mailbox, fetched, context)
    lanes = _lanes(fetched, workers)
    if len(lanes) <= 1:
        return _ingest_lane(mailbox, lanes[0] if lanes else [], context)
    with ThreadPoolExecutor(max_workers=len(lanes), thread_name_prefix="mail-ingest") as pool:
        futures = [pool.submit(_lane_in_thread, mailbox, lane, context) for lane in lanes]
    done, errors = [], []
    for future in futures:
        try:
            done.extend(future.result())
        except Exception as exc:  # noqa: BLE001 - re-raised below once every lane has finished
            errors.append(exc)
    if errors:
        raise errors[0]
    order = {uid: i for i, (uid, _raw, _size) in enumerate(fetched)}
    return sorted(done, key=lambda item: order[item[0]])


def _ingest_lane(mailbox: Mailbox, lane: list[tuple[int, bytes, int]], context) -> list:
    return _ingest_parsed(mailbox, lane, None, context=context)  # no parse process: parsed here


def _lane_in_thread(mailbox: Mailbox, lane, context) -> list:
    try:
        return _ingest_lane(mailbox, lane, context)
    finally:
        db_connection.close()


def _lanes(fetched: list[tuple[int, bytes, int]], workers: int) -> list[list[tuple[int, bytes, int]]]:
    """Split a batch into at most `workers` independent lanes (union-find over thread and sender keys)."""
    parent = list(range(len(fetched)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    owner: dict[str, int] = {}
    for index, (_uid, raw, _size) in enumerate(fetched):
        for key in _keys(raw):
            if key in owner:
                parent[find(index)] = find(owner[key])
            else:
                owner[key] = index
    groups: dict[int, list[int]] = {}
    for index in range(len(fetched)):
        groups.setdefault(find(index), []).append(index)
    lanes: list[list[int]] = [[] for _ in range(min(workers, len(groups)) or 1)]
    for members in sorted(groups.values(), key=len, reverse=True):
        min(lanes, key=len).extend(members)
    return [[fetched[i] for i in sorted(lane)] for lane in lanes if lane]


def _keys(raw: bytes) -> set[str]:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0][:65536]
    headers = BytesHeaderParser(policy=compat32).parsebytes(head + b"\r\n\r\n")
    keys = set()
    for name in ("Message-ID", "In-Reply-To", "References"):
        keys.update("id:" + m for m in MESSAGE_ID.findall(str(headers.get(name, ""))))
    keys.update("from:" + addr.lower() for _name, addr in getaddresses([str(headers.get("From", ""))]) if addr)
    token = TOKEN.search(str(headers.get("Subject", "")))
    if token:
        keys.add("ticket:" + token.group(1))
    return keys


def _uidvalidity(conn) -> int:
    typ, data = conn.response("UIDVALIDITY")
    try:
        return int(data[0])
    except (TypeError, ValueError, IndexError) as exc:
        raise ImapError(_("The server did not report a UIDVALIDITY for the folder.")) from exc


def _new_uids(conn, last_uid: int) -> list[int]:
    typ, data = conn.uid("SEARCH", f"UID {last_uid + 1}:*")
    if typ != "OK":
        raise ImapError(_("The server refused to list new messages: %(answer)s") % {"answer": _answer(typ, data)})
    uids = [int(u) for chunk in data if chunk for u in chunk.split()]
    return sorted(u for u in uids if u > last_uid)  # "n:*" always includes the highest UID


def _batches(conn, uids: list[int], batch_size: int):
    """Groups of at most `batch_size` messages and about BATCH_BYTES, with the size of each. The first
    groups are small so the first tickets appear quickly; later ones grow to `batch_size`."""
    start, size = 0, min(FIRST_BATCH, batch_size)
    while start < len(uids):
        chunk = uids[start : start + size]
        start += size
        size = min(size * 2, batch_size)
        sizes = _sizes(conn, chunk)
        _check_complete(conn, chunk, sizes)
        group: list[tuple[int, int]] = []
        total = 0
        for uid in chunk:
            if uid not in sizes:
                continue  # expunged meanwhile
            if group and total + sizes[uid] > BATCH_BYTES:
                yield group
                group, total = [], 0
            group.append((uid, sizes[uid]))
            total += sizes[uid]
        if group:
            yield group


def _sizes(conn, uids: list[int]) -> dict[int, int]:
    typ, data = conn.uid("FETCH", _uid_set(uids), "(UID RFC822.SIZE)")
    if typ != "OK":
        raise ImapError(_("The server refused to list message sizes: %(answer)s") % {"answer": _answer(typ, data)})
    sizes = {}
    for item in data or []:
        head = item[0] if isinstance(item, tuple) else item
        if not isinstance(head, bytes):
            continue
        uid, size = FETCH_ITEM.search(head), SIZE_ITEM.search(head)
        if uid and size:
            sizes[int(uid.group(1))] = int(size.group(1))
    return sizes


def _fetch(conn, group: list[tuple[int, int]], max_bytes: int):
    """(uid, bytes, size) in UID order; messages over the limit are fetched only up to it (PEEK: no \\Seen)."""
    small = [uid for uid, size in group if size <= max_bytes]
    bodies: dict[int, bytes] = {}
    if small:
        bodies.update(_bodies(conn, small, "BODY.PEEK[]"))
    for uid, size in group:
        if size > max_bytes:
            bodies.update(_bodies(conn, [uid], f"BODY.PEEK[]<0.{max_bytes}>"))
    _check_complete(conn, [uid for uid, _size in group], bodies)
    for uid, size in group:
        if uid in bodies:
            yield uid, bodies[uid], size


def _check_complete(conn, asked: list[int], answered) -> None:
    """A UID missing from a FETCH answer is fine only if it was expunged meanwhile. Otherwise the answer was
    cut short: stop here (position unchanged), rather than step over a message that was never stored."""
    missing = [uid for uid in asked if uid not in answered]
    if not missing:
        return
    typ, data = conn.uid("SEARCH", "UID " + _uid_set(missing))
    still_there = {int(u) for chunk in (data or []) if chunk for u in chunk.split()} & set(missing)
    if typ != "OK" or still_there:
        log.warning("incomplete FETCH answer: %s of %s messages missing", len(still_there) or len(missing), len(asked))
        raise ImapError(_("The server's answer was incomplete; the remaining messages are fetched on the next run."))


def _bodies(conn, uids: list[int], item: str) -> dict[int, bytes]:
    typ, data = conn.uid("FETCH", _uid_set(uids), f"(UID {item})")
    if typ != "OK":
        raise ImapError(_("The server refused to hand out messages: %(answer)s") % {"answer": _answer(typ, data)})
    bodies = {}
    for entry in data or []:
        if isinstance(entry, tuple) and len(entry) >= 2:
            uid = FETCH_ITEM.search(entry[0])
            if uid:
                bodies[int(uid.group(1))] = entry[1]
    return bodies


def _mark_processed(conn, mailbox: Mailbox, uids: list[int]) -> None:
    uid_set = _uid_set(uids)
    if not mailbox.processed_folder:
        typ, data = conn.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen)")
        if typ != "OK":
            raise ImapError(_("Could not mark processed mail as read: %(answer)s") % {"answer": _answer(typ, data)})
        return
    folder = _quote(mailbox.processed_folder)
    conn.create(folder)  # "already exists" is a NO: fine
    if "MOVE" in _capabilities(conn):
        typ, _data = conn.uid("MOVE", uid_set, folder)
        if typ == "OK":
            return
    typ, _data = conn.uid("COPY", uid_set, folder)
    if typ != "OK":
        raise ImapError(_("Could not copy processed mail to %(folder)s.") % {"folder": mailbox.processed_folder})
    typ, data = conn.uid("STORE", uid_set, "+FLAGS.SILENT", r"(\Seen \Deleted)")
    if typ != "OK":
        raise ImapError(_("Could not remove processed mail from the folder: %(answer)s") % {"answer": _answer(typ, data)})
    conn.expunge()


def _answer(typ, data) -> str:
    text = b" ".join(d for d in (data or []) if isinstance(d, bytes)).decode(errors="replace")
    return f"{typ} {text}".strip()[:300]


def _capabilities(conn) -> set[str]:
    typ, data = conn.capability()
    return set((data[0] or b"").decode(errors="replace").upper().split()) if data else set()


def _uid_set(uids: list[int]) -> str:
    return ",".join(str(u) for u in uids)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _close(conn) -> None:
    try:
        conn.logout()
    except Exception:  # noqa: BLE001 - closing a dead connection
        with contextlib.suppress(Exception):
            conn.shutdown()


def _record_error(mailbox_id: int, message: str) -> None:
    log.warning("mailbox %s: %s", mailbox_id, message)
    Mailbox.objects.filter(pk=mailbox_id).update(last_error=message[:2000], last_polled_at=timezone.now())
