"""`python -m bench email`: IMAP ingestion speed and threading accuracy, against django-helpdesk.

Starts a private dovecot (Debian's dovecot-imapd, a free loopback port, its own config under a temp dir),
appends the same N realistic messages (default 2,000: threads of 1-8 messages, replies linked by
In-Reply-To + References, by References only, or by In-Reply-To only; plain and HTML, quoted replies,
signatures, Latin-1, small attachments) to one IMAP account per contender, and measures until every message
is stored: messages/s and the time to the first and the last ticket. Threading accuracy: the share of
messages that landed in their thread's ticket (a thread's first message must open a ticket of its own).

The peer is django-helpdesk (its `get_email` command), installed by this script from the package registry
into `var/bench/peer-venv` with a generated site in `var/bench/peer-site`: its Python package is also named
`helpdesk`, so it never runs inside this project's environment. Both use the same PostgreSQL, each its own
database (`helpdesk_bench_email`, `helpdesk_bench_email_peer`).

    python -m bench email [--messages 2000] [--runs 3] [--no-peer] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
PEER_DIR = ROOT / "var" / "bench"
PEER_VENV = PEER_DIR / "peer-venv"
PEER_SITE = PEER_DIR / "peer-site"
PEER_REQUIREMENT = "django-helpdesk==2.6.1"
OURS_DB = "helpdesk_bench_email"
PEER_DB = "helpdesk_bench_email_peer"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench email")
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true", help="measure only this project")
    parser.add_argument("--workers", type=int, default=1, help="parallel ingest lanes (threads) for this project")
    parser.add_argument("--batch", type=int, default=None, help="messages per IMAP fetch and commit for this project (default: the product's)")
    args = parser.parse_args(argv)

    base_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/helpdesk_bench")
    os.environ["DATABASE_URL"] = _with_db(base_url, OURS_DB)
    os.environ.setdefault("CELERY_QUEUE", "hdbenchemail")
    from bench.common import ensure_database, setup_django

    setup_django()
    ensure_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # As deployed: the ticket-event listeners (SLA, automation, webhooks, points, indexing) run in a Celery
    # worker beside the poller, on the same two cores.
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "helpdesk", "--quiet", "worker", "-l", "warning", "-c", "1", "-Q", os.environ["CELERY_QUEUE"]],
        env=dict(os.environ), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        return _measure(args, base_url)
    finally:
        worker.terminate()
        worker.wait(30)


def _measure(args, base_url: str) -> int:

    from tests.mail.dovecot import Dovecot

    messages, threads = generate(args.messages)
    root = Path(tempfile.mkdtemp(prefix="hd-bench-dovecot-"))
    server = Dovecot(root).start()
    peer_ok, peer_note = (False, "skipped (--no-peer)") if args.no_peer else _prepare_peer(base_url)
    results: dict[str, list[dict]] = {"ours": [], "peer": []}
    try:
        for run in range(args.runs):
            user = f"ours{run}"
            server.add_user(user, "pw")
            _append(server, user, messages)
            results["ours"].append(_run_ours(server, user, messages, threads, args.workers, args.batch))
            _print("this project", run, results["ours"][-1])
            _drain_listener_queue()  # the worker's backlog must not take CPU from the next contender
            if peer_ok:
                user = f"peer{run}"
                server.add_user(user, "pw")
                _append(server, user, messages)
                outcome = _run_peer(server, user, base_url, messages, threads)
                if "error" in outcome:
                    peer_ok, peer_note = False, outcome["error"]
                    print(f"peer failed: {peer_note}", file=sys.stderr)
                else:
                    results["peer"].append(outcome)
                    _print("django-helpdesk", run, outcome)
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    _report(args, results, peer_note)
    return 0


def _drain_listener_queue(timeout: float = 300) -> None:
    import redis
    from django.conf import settings

    client = redis.Redis.from_url(settings.REDIS_URL)
    deadline = time.time() + timeout
    while client.llen(settings.CELERY_TASK_DEFAULT_QUEUE) and time.time() < deadline:
        time.sleep(0.5)
    time.sleep(1)  # the task in progress
    client.close()


# ---------------------------------------------------------------- the mailbox contents


def generate(count: int, seed: int = 4) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """(message id, bytes) in delivery order, and message id -> thread label."""
    rng = random.Random(seed)
    topics = [
        ("Order {n} arrived damaged", "One of the items in order {n} was broken when the parcel arrived."),
        ("Invoice {n} has the wrong amount", "The invoice {n} shows € 1 250,00 but we agreed on € 1 050,00."),
        ("Cannot log in since the update", "Since this morning's update I get 'invalid session' when I log in."),
        ("Salasanan vaihto ei onnistu ({n})", "Salasanan vaihtolinkki ei toimi, se sanoo että linkki on vanhentunut."),
        ("Rücksendung Bestellung {n}", "Ich möchte die Bestellung {n} zurücksenden, das Gerät startet nicht."),
        ("Export to CSV is empty", "The monthly CSV export contains only the header row since last week."),
    ]
    messages: list[tuple[str, bytes]] = []
    thread_of: dict[str, str] = {}
    open_threads: list[dict] = []
    start = time.time() - 86400 * 3
    n = 0
    while len(messages) < count:
        reply = open_threads and rng.random() < 0.7
        if reply:
            thread = rng.choice(open_threads)
        else:
            subject, body = rng.choice(topics)
            number = rng.randint(1000, 9999)
            thread = {"label": f"t{n}", "subject": subject.format(n=number), "body": body.format(n=number), "ids": [], "customer": f"customer{n}@example.org", "left": rng.randint(1, 8)}
            open_threads.append(thread)
        n += 1
        message_id = f"<bench.{n}.{rng.getrandbits(40):x}@mail.example.org>"
        raw = _compose(rng, thread, message_id, start + n * 30)
        thread["ids"].append(message_id)
        thread["left"] -= 1
        if thread["left"] <= 0:
            open_threads.remove(thread)
        messages.append((message_id, raw))
        thread_of[message_id] = thread["label"]
    return messages, thread_of


def _compose(rng: random.Random, thread: dict, message_id: str, when: float) -> bytes:
    from datetime import UTC, datetime
    from email.message import EmailMessage
    from email.policy import SMTP

    msg = EmailMessage(policy=SMTP)
    name = thread["customer"].split("@")[0].title()
    msg["From"] = f"{name} <{thread['customer']}>"
    msg["To"] = "Support <support@example.com>"
    msg["Date"] = format_datetime(datetime.fromtimestamp(when, UTC))
    msg["Message-ID"] = message_id
    previous = thread["ids"]
    if previous:
        msg["Subject"] = "Re: " + thread["subject"]
        style = rng.choice(["both", "references-only", "in-reply-to-only"])
        if style in ("both", "in-reply-to-only"):
            msg["In-Reply-To"] = previous[-1]
        if style in ("both", "references-only"):
            msg["References"] = " ".join(previous[-10:])
        text = rng.choice(["Thanks, that helps.", "It still does not work, see below.", "Any news on this?", "Kiitos, nyt toimii."])
        text += "\n\nOn Mon, 3 Mar 2025 at 09:47, Support <support@example.com> wrote:\n> " + thread["body"].replace("\n", "\n> ")
    else:
        msg["Subject"] = thread["subject"]
        text = f"Hello,\n\n{thread['body']}\n\nCould you help?\n\nBest regards,\n{name}\n-- \n{name}\nExample Customer Ltd"
    charset = "iso-8859-1" if rng.random() < 0.2 and all(ord(c) < 256 for c in text) else "utf-8"
    msg.set_content(text, charset=charset)
    if rng.random() < 0.5:
        html = "<div>" + "".join(f"<p>{line}</p>" for line in text.split("\n") if line) + "</div>"
        msg.add_alternative(html, subtype="html")
    if rng.random() < 0.1:
        msg.add_attachment(b"\x89PNG\r\n\x1a\n" + rng.randbytes(3000), maintype="image", subtype="png", filename="screenshot.png")
    return msg.as_bytes()


def _append(server, user: str, messages: list[tuple[str, bytes]]) -> None:
    import imaplib

    conn = imaplib.IMAP4(server.host, server.port)
    conn.login(user, "pw")
    for _mid, raw in messages:
        conn.append("INBOX", None, None, raw)
    conn.logout()


# ---------------------------------------------------------------- this project


def _run_ours(server, user: str, messages, threads, workers: int, batch: int | None) -> dict:
    from django.db import connection

    from mail.imap import ImapError, poll
    from mail.models import Mailbox
    from tickets.models import Contact, Message, Team, Ticket

    with connection.cursor() as cursor:  # a clean slate for every run (faster than cascading deletes)
        tables = [Ticket._meta.db_table, Contact._meta.db_table, Mailbox._meta.db_table]
        cursor.execute("TRUNCATE " + ", ".join(tables) + " CASCADE")
    team, _created = Team.objects.get_or_create(name="Support")
    mailbox = Mailbox.objects.create(
        name="Support", email_address="support@example.com", team=team, imap_host=server.host, imap_port=server.port,
        imap_security="none", imap_username=user, imap_password="pw",
    )  # fmt: skip
    stamps: list[float] = []
    start = time.perf_counter()
    for _attempt in range(10):  # what beat does: a run that stopped early is simply run again
        try:
            options = {"batch_size": batch} if batch else {}
            result = poll(mailbox.pk, after_message=lambda uid, message: stamps.append(time.perf_counter()), workers=workers, **options)
        except ImapError as exc:
            print(f"  poll stopped early ({exc}); polling again", file=sys.stderr)
            continue
        if not result.fetched:
            break
    elapsed = time.perf_counter() - start
    stored = dict(Message.objects.filter(channel="email").values_list("external_id", "ticket_id"))
    return _outcome(len(messages), elapsed, stamps[0] - start if stamps else None, stamps[-1] - start if stamps else None, stored, threads)


# ---------------------------------------------------------------- the peer


PEER_SETTINGS = """
import os
SECRET_KEY = "bench-only"
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin", "django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions",
    "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.sites", "django.contrib.humanize",
    "rest_framework", "helpdesk",
]
MIDDLEWARE = []
ROOT_URLCONF = "peer_urls"
SITE_ID = 1
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True, "OPTIONS": {"context_processors": []}}]
DATABASES = {"default": {"ENGINE": "django.db.backends.postgresql", "NAME": os.environ["PEER_DB"], "USER": os.environ["PEER_DB_USER"],
             "PASSWORD": os.environ.get("PEER_DB_PASSWORD", ""), "HOST": os.environ["PEER_DB_HOST"], "PORT": os.environ["PEER_DB_PORT"]}}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_ROOT = os.environ["PEER_MEDIA"]
# The peer mails an acknowledgement to every sender; nothing may leave the machine in a benchmark.
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Stock settings otherwise; teams mode needs the optional pinax-teams app, which the core ingest does not use.
HELPDESK_TEAMS_MODE_ENABLED = False
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR"}}
"""

PEER_RUNNER = """
import json, os, sys, time
import django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "peer_settings")
django.setup()
from django.core.management import call_command
if sys.argv[1] == "migrate":
    call_command("migrate", verbosity=0)
    sys.exit(0)
from helpdesk.models import Queue, Ticket, FollowUp
Ticket.objects.all().delete()
fields = dict(title="Support", email_address="support@example.com", allow_email_submission=True, email_box_type="imap",
              email_box_host=sys.argv[2], email_box_port=int(sys.argv[3]), email_box_ssl=False, email_box_user=sys.argv[4],
              email_box_pass="pw", email_box_imap_folder="INBOX", email_box_interval=0, email_box_last_check=None)
queue = Queue.objects.filter(slug="support").first()
if queue is None:
    from django.contrib.auth.models import Permission
    Permission.objects.filter(codename="queue_access_support").delete()  # left behind by a deleted queue
    Queue.objects.create(slug="support", **fields)
else:
    Queue.objects.filter(pk=queue.pk).update(**fields)
start = time.time()
call_command("get_email")
end = time.time()
print(json.dumps({"start": start, "end": end}))
"""

PEER_URLS = """
from django.urls import include, path
urlpatterns = [path("helpdesk/", include("helpdesk.urls", namespace="helpdesk"))]
"""


def _prepare_peer(base_url: str) -> tuple[bool, str]:
    python = PEER_VENV / "bin" / "python"
    try:
        if not python.exists():
            print(f"installing {PEER_REQUIREMENT} into {PEER_VENV} ...", file=sys.stderr)
            subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
            subprocess.run([str(python), "-m", "pip", "install", "-q", PEER_REQUIREMENT, "psycopg[binary]"], check=True)
        PEER_SITE.mkdir(parents=True, exist_ok=True)
        (PEER_SITE / "peer_settings.py").write_text(PEER_SETTINGS)
        (PEER_SITE / "peer_urls.py").write_text(PEER_URLS)
        (PEER_SITE / "run_peer.py").write_text(PEER_RUNNER)
        _create_database(base_url, PEER_DB)
        subprocess.run([str(python), "run_peer.py", "migrate"], cwd=PEER_SITE, env=_peer_env(base_url), check=True, capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        return False, f"django-helpdesk could not be installed or migrated: {exc} {detail.decode(errors='replace')[-500:]}"
    return True, ""


def _run_peer(server, user: str, base_url: str, messages, threads) -> dict:
    python = PEER_VENV / "bin" / "python"
    proc = subprocess.run(
        [str(python), "run_peer.py", "run", server.host, str(server.port), user],
        cwd=PEER_SITE, env=_peer_env(base_url), capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    if proc.returncode != 0:
        return {"error": f"get_email exited {proc.returncode}: {proc.stderr[-800:]}"}
    times = json.loads(proc.stdout.strip().splitlines()[-1])
    import psycopg

    with psycopg.connect(_with_db(base_url, PEER_DB)) as conn:
        stored = dict(conn.execute("SELECT message_id, ticket_id FROM helpdesk_followup WHERE message_id IS NOT NULL").fetchall())
        first, last = conn.execute(
            "SELECT extract(epoch FROM min(created)), (SELECT extract(epoch FROM max(date)) FROM helpdesk_followup) FROM helpdesk_ticket"
        ).fetchone()
    elapsed = times["end"] - times["start"]
    to_first = float(first) - times["start"] if first is not None else None
    to_last = float(last) - times["start"] if last is not None else None
    return _outcome(len(messages), elapsed, to_first, to_last, stored, threads)


def _peer_env(base_url: str) -> dict:
    parsed = urlparse(base_url)
    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_SETTINGS_MODULE", "PYTHONPATH", "VIRTUAL_ENV"}}
    env.update(
        PEER_DB=PEER_DB, PEER_DB_USER=parsed.username or "postgres", PEER_DB_PASSWORD=parsed.password or "",
        PEER_DB_HOST=parsed.hostname or "127.0.0.1", PEER_DB_PORT=str(parsed.port or 5432),
        PEER_MEDIA=str(PEER_DIR / "peer-media"), PYTHONPATH=str(PEER_SITE),
    )  # fmt: skip
    return env


# ---------------------------------------------------------------- figures


def _outcome(total: int, elapsed: float, to_first, to_last, stored: dict[str, int], threads: dict[str, str]) -> dict:
    home: dict[str, int] = {}
    for message_id, label in threads.items():  # dict order = delivery order: the first one opens the thread
        if label not in home and message_id in stored:
            home[label] = stored[message_id]
    owners: dict[int, set[str]] = {}
    for label, ticket in home.items():
        owners.setdefault(ticket, set()).add(label)
    correct = sum(
        1
        for message_id, label in threads.items()
        if message_id in stored and stored[message_id] == home.get(label) and len(owners.get(home[label], ())) == 1
    )
    return {
        "messages": total,
        "stored": sum(1 for m in threads if m in stored),
        "seconds": elapsed,
        "per_second": sum(1 for m in threads if m in stored) / elapsed if elapsed else 0.0,
        "first": to_first,
        "last": to_last,
        "accuracy": correct / total,
    }


def _print(name: str, run: int, o: dict) -> None:
    first = f"{o['first']:.2f}" if o["first"] is not None else "-"
    last = f"{o['last']:.2f}" if o["last"] is not None else "-"
    print(f"run {run + 1} {name:>16}: {o['stored']}/{o['messages']} stored in {o['seconds']:.2f} s = {o['per_second']:.1f} msg/s; first ticket {first} s, last {last} s; threading {o['accuracy']:.1%}")


def _report(args, results: dict, peer_note: str) -> None:
    print(f"\n## email: {args.messages} messages, {args.runs} runs (medians)")
    rows = []
    for name, key in (("this project", "ours"), ("django-helpdesk 2.6.1", "peer")):
        runs = results[key]
        if not runs:
            rows.append(f"| {name} | {peer_note or 'no result'} | | | | |")
            continue
        med = {k: statistics.median([r[k] for r in runs if r[k] is not None] or [float('nan')]) for k in ("per_second", "first", "last", "accuracy", "seconds")}
        rows.append(f"| {name} | {med['per_second']:.1f} | {med['seconds']:.1f} | {med['first']:.2f} | {med['last']:.1f} | {med['accuracy']:.1%} |")
    print("| | messages/s | total s | first ticket s | last ticket s | threading accuracy |\n|---|---|---|---|---|---|")
    print("\n".join(rows))
    if results["ours"] and results["peer"]:
        ratio = statistics.median([r["per_second"] for r in results["ours"]]) / statistics.median([r["per_second"] for r in results["peer"]])
        print(f"\nthroughput ratio (this project / django-helpdesk): {ratio:.1f}x")


def _with_db(url: str, name: str) -> str:
    parsed = urlparse(url)
    return parsed._replace(path="/" + name).geturl()


def _create_database(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
