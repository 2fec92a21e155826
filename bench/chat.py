"""`python -m bench chat [--visitors N] [--agents A] [--rate R] [--duration S] [--ceiling S]`: live chat load.

Starts daphne with the product (`helpdesk.asgi`) on PostgreSQL + Redis (`RedisPubSubChannelLayer`, as in
settings) and drives N visitor sockets on `/ws/visitor/` and A agent sockets on `/ws/agent/`. Visitors say
hello, send a first message and are routed to agents, who accept every offer (the real routing path).
Then, for S seconds, visitors send messages at R/s in aggregate while 20% of them are typing at any moment
(a draft every 500 ms, the widget's throttle). It reports messages/s, p50/p95/p99 visitor→agent latency for
messages and for typing previews, server CPU-ms per message, RSS per connection, errors and dropped frames.
A second phase (`--ceiling`) measures the maximum message throughput with every visitor in a closed loop.

In the same run, on the same daphne and channel layer, the same load goes through two baselines:
  - a bare Channels consumer that only relays each frame to a group the agent socket joined;
  - a raw `websockets` relay with no framework (in-process dict of rooms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from .common import percentile

ROOT = Path(__file__).resolve().parent.parent
TYPING_SHARE = 0.2
TYPING_INTERVAL = 0.5  # the widget's client-side throttle
CONNECT_BATCH = 50


# ---------------------------------------------------------------- baselines served by daphne / websockets


def __getattr__(name: str):
    """`bench.chat:relay_application` for daphne: built on first access so importing this module is cheap."""
    if name == "relay_application":
        return _relay_application()
    raise AttributeError(name)


def _relay_application():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    import django

    django.setup()
    from channels.generic.websocket import AsyncWebsocketConsumer
    from channels.routing import ProtocolTypeRouter, URLRouter
    from django.urls import path

    class RelayVisitor(AsyncWebsocketConsumer):
        async def connect(self) -> None:
            self.room = self.scope["url_route"]["kwargs"]["room"]
            await self.accept()

        async def receive(self, text_data=None, bytes_data=None) -> None:
            await self.channel_layer.group_send(f"relay.{self.room}", {"type": "relay", "text": text_data})

    class RelayAgent(AsyncWebsocketConsumer):
        async def connect(self) -> None:
            rooms = parse_qs(self.scope["query_string"].decode()).get("rooms", [""])[0]
            for room in filter(None, rooms.split(",")):
                await self.channel_layer.group_add(f"relay.{room}", self.channel_name)
            await self.accept()

        async def relay(self, event) -> None:
            await self.send(text_data=event["text"])

    return ProtocolTypeRouter(
        {"websocket": URLRouter([path("relay/visitor/<int:room>/", RelayVisitor.as_asgi()), path("relay/agent/", RelayAgent.as_asgi())])}
    )


async def _serve_raw(port: int) -> None:
    import websockets

    rooms: dict[str, set] = {}

    async def handler(ws) -> None:
        path = ws.request.path
        if path.startswith("/relay/agent/"):
            mine = parse_qs(path.split("?", 1)[1] if "?" in path else "").get("rooms", [""])[0].split(",")
            for room in mine:
                rooms.setdefault(room, set()).add(ws)
            try:
                await ws.wait_closed()
            finally:
                for room in mine:
                    rooms.get(room, set()).discard(ws)
            return
        room = path.rstrip("/").rsplit("/", 1)[-1]
        async for text in ws:
            websockets.broadcast(rooms.get(room, ()), text)

    async with websockets.serve(handler, "127.0.0.1", port, max_size=2**16, compression=None):
        await asyncio.Future()


# ---------------------------------------------------------------- measurement


@dataclass
class Stats:
    sent: dict[int, float] = field(default_factory=dict)
    got: dict[int, float] = field(default_factory=dict)
    typing_sent: dict[int, float] = field(default_factory=dict)
    typing_lat: list[float] = field(default_factory=list)
    waiters: dict[int, asyncio.Future] = field(default_factory=dict)
    typing_every: dict[int, float] = field(default_factory=dict)
    typing_frames: int = 0
    errors: int = 0
    closed: int = 0

    def message_latencies(self) -> list[float]:
        return [(self.got[s] - t) * 1000 for s, t in self.sent.items() if s in self.got]


def on_agent_frame(stats: Stats, raw: str, now: float) -> dict | None:
    frame = json.loads(raw)
    kind = frame.get("type")
    text = frame.get("text") or ""
    if kind == "message" and text.startswith("m "):
        seq = int(text.split(" ", 2)[1])
        if seq in stats.sent and seq not in stats.got:
            stats.got[seq] = now
            waiter = stats.waiters.pop(seq, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(None)
    elif kind in ("typing_preview", "typing") and text.startswith("t "):
        seq = int(text.split(" ", 2)[1])
        started = stats.typing_sent.pop(seq, None)
        if started is not None:
            stats.typing_lat.append((now - started) * 1000)
    elif kind == "error":
        stats.errors += 1
    return frame


def cpu_seconds(pid: int | list[int]) -> float:
    """CPU time of the server process (or the sum over several)."""
    import psutil

    total = 0.0
    for one in pid if isinstance(pid, list) else [pid]:
        times = psutil.Process(one).cpu_times()
        total += times.user + times.system
    return total


def rss_bytes(pid: int | list[int]) -> int:
    import psutil

    return sum(psutil.Process(one).memory_info().rss for one in (pid if isinstance(pid, list) else [pid]))


def _dist(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50": statistics.median(values), "p95": percentile(values, 95), "p99": percentile(values, 99), "max": max(values)}


# ---------------------------------------------------------------- targets


class Target:
    """How one server under test is reached. Visitors and agents speak the product's JSON frames."""

    name = ""

    def __init__(self, ws_url: str, pid: int | list[int]) -> None:
        self.ws_url, self.pid = ws_url, pid
        self.visitors: list = []
        self.agents: list = []

    def message(self, seq: int, client_id: str) -> str:
        return json.dumps({"type": "message", "client_id": client_id, "text": f"m {seq} my order has not arrived yet"})

    def typing(self, seq: int) -> str:
        return json.dumps({"type": "typing", "text": f"t {seq} I would like to ask about"})


async def _connect(url: str, **kwargs):
    import websockets

    return await websockets.connect(url, max_size=2**22, compression=None, open_timeout=60, ping_interval=None, **kwargs)


class RelayTarget(Target):
    def __init__(self, ws_url: str, pid: int, name: str) -> None:
        super().__init__(ws_url, pid)
        self.name = name

    async def connect(self, n_visitors: int, n_agents: int, stats: Stats) -> None:
        for a in range(n_agents):
            rooms = ",".join(str(v) for v in range(n_visitors) if v % n_agents == a)
            self.agents.append(await _connect(f"{self.ws_url}/relay/agent/?rooms={rooms}"))
        for start in range(0, n_visitors, CONNECT_BATCH):
            batch = range(start, min(start + CONNECT_BATCH, n_visitors))
            self.visitors += await asyncio.gather(*(_connect(f"{self.ws_url}/relay/visitor/{v}/") for v in batch))


class ProductTarget(Target):
    name = "product (helpdesk.asgi)"

    def __init__(self, ws_url: str, pid: int, widget_keys: list[str], agent_cookies: list[str], origin: str, tokens: list[str]) -> None:
        super().__init__(ws_url, pid)
        self.widget_keys, self.agent_cookies, self.origin = widget_keys, agent_cookies, origin
        self.tokens = tokens  # visitors whose chats are already assigned (bulk setup); empty = route them live

    async def connect(self, n_visitors: int, n_agents: int, stats: Stats) -> None:
        from django.conf import settings

        for cookie in self.agent_cookies:
            ws = await _connect(f"{self.ws_url}/ws/agent/", origin=self.origin, additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
            await ws.send(json.dumps({"type": "availability", "status": "online"}))
            self.agents.append(ws)
        self.accepted = 0
        self.accept_tasks = [asyncio.ensure_future(self._accept_offers(ws)) for ws in self.agents]
        for start in range(0, n_visitors, CONNECT_BATCH):
            batch = range(start, min(start + CONNECT_BATCH, n_visitors))
            self.visitors += await asyncio.gather(*(self._visitor(v) for v in batch))
        deadline = time.monotonic() + 120
        while self.accepted < n_visitors and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        for task in self.accept_tasks:
            task.cancel()
        if self.accepted < n_visitors:
            print(f"  warning: only {self.accepted}/{n_visitors} chats were accepted", flush=True)

    async def _visitor(self, v: int):
        ws = await _connect(f"{self.ws_url}/ws/visitor/?widget={self.widget_keys[v % len(self.widget_keys)]}", origin=self.origin)
        token = self.tokens[v] if self.tokens else None
        await ws.send(json.dumps({"type": "hello", "visitor": token, "page_url": "https://shop.example.com/"}))
        welcome = json.loads(await ws.recv())
        assert welcome["type"] == "welcome", welcome
        if token:
            self.accepted += 1
            return ws
        await ws.send(json.dumps({"type": "message", "client_id": f"first-{v}", "text": f"hello from visitor {v}"}))
        while json.loads(await ws.recv())["type"] != "ack":
            pass
        return ws

    async def _accept_offers(self, ws) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame["type"] == "chat_offer":
                await ws.send(json.dumps({"type": "accept", "ticket": frame["ticket"]}))
            elif frame["type"] == "accepted":
                self.accepted += 1


# ---------------------------------------------------------------- load


async def run_load(target: Target, *, visitors: int, agents: int, rate: float, duration: float, ceiling: float, senders: int, typing: float) -> dict:
    stats = Stats()
    rss_before = rss_bytes(target.pid)
    t0 = time.monotonic()
    await target.connect(visitors, agents, stats)
    connected = len(target.visitors) + len(target.agents)
    print(f"  {target.name}: {connected} sockets connected in {time.monotonic() - t0:.1f}s", flush=True)
    await asyncio.sleep(1.0)
    rss_after = rss_bytes(target.pid)

    loop = asyncio.get_running_loop()
    readers = [asyncio.ensure_future(_read_agent(ws, stats)) for ws in target.agents]
    readers += [asyncio.ensure_future(_drain(ws, stats)) for ws in target.visitors]
    seq = iter(range(1, 10**9))

    # phase 1: a realistic rate of messages while 20% of visitors type
    cpu0, start = cpu_seconds(target.pid), loop.time()
    stop = start + duration
    typing_task = asyncio.ensure_future(_typing(target, stats, stop, seq, typing))
    order = list(range(len(target.visitors)))
    random.shuffle(order)
    n = 0
    while loop.time() < stop:
        due = start + n / rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        s = next(seq)
        ws = target.visitors[order[n % len(order)]]
        stats.sent[s] = loop.time()
        await ws.send(target.message(s, f"b{s}"))
        n += 1
    await typing_task
    await _settle(stats, loop, 5.0)
    cpu1 = cpu_seconds(target.pid)
    await _settle(stats, loop, 30.0)  # let a backlog drain before the ceiling phase (counted as late, not lost)
    lat = [(stats.got[s] - t) * 1000 for s, t in stats.sent.items() if s in stats.got and stats.got[s] - t <= 5.0]
    late = len(stats.message_latencies()) - len(lat)
    steady = {
        "offered_rate": rate,
        "messages_sent": len(stats.sent),
        "messages_received": len(lat),
        "late_over_5s": late,
        "dropped": len(stats.sent) - len(lat) - late,
        "messages_per_s": len(lat) / duration,
        "message_latency_ms": _dist(lat),
        "typing_latency_ms": _dist(stats.typing_lat),
        "typing_frames_per_s": stats.typing_frames / duration,
        "cpu_ms_per_message": (cpu1 - cpu0) * 1000 / max(1, len(lat)),
        "errors": stats.errors,
    }

    # phase 2: ceiling, every visitor in a closed loop (next message once the agent got the previous one)
    closed = Stats()
    for task in readers:
        task.cancel()
    readers = [asyncio.ensure_future(_read_agent(ws, closed)) for ws in target.agents]
    readers += [asyncio.ensure_future(_drain(ws, closed)) for ws in target.visitors]
    cpu0, start = cpu_seconds(target.pid), loop.time()
    stop = start + ceiling
    await asyncio.gather(*(_closed_loop(target, ws, closed, stop, seq) for ws in target.visitors[:senders]))
    elapsed = loop.time() - start
    cpu1 = cpu_seconds(target.pid)
    got = len(closed.message_latencies())
    ceiling_result = {
        "messages_per_s": got / elapsed,
        "message_latency_ms": _dist(closed.message_latencies()),
        "cpu_ms_per_message": (cpu1 - cpu0) * 1000 / max(1, got),
        "errors": closed.errors,
    }
    for task in readers:
        task.cancel()
    await asyncio.gather(*(ws.close() for ws in target.visitors + target.agents), return_exceptions=True)
    return {
        "target": target.name,
        "connections": connected,
        "rss_per_connection_kib": (rss_after - rss_before) / max(1, connected) / 1024,
        "steady": steady,
        "ceiling": ceiling_result,
    }


async def _read_agent(ws, stats: Stats) -> None:
    loop = asyncio.get_running_loop()
    try:
        async for raw in ws:
            on_agent_frame(stats, raw, loop.time())
    except Exception:
        stats.closed += 1


async def _drain(ws, stats: Stats) -> None:
    try:
        async for raw in ws:
            if '"type": "error"' in raw:
                stats.errors += 1
            elif '"type": "typing_interval"' in raw:
                stats.typing_every[id(ws)] = json.loads(raw)["seconds"]  # the widget obeys this too
    except Exception:
        stats.closed += 1


async def _typing(target: Target, stats: Stats, stop: float, seq, share: float) -> None:
    """20% of visitors typing at any moment, each widget sending its draft on its own 500 ms clock (the
    typists' drafts are spread over the interval, not sent in the same millisecond); about one typist in ten
    stops each round and someone else starts typing in that slot."""
    loop = asyncio.get_running_loop()
    count = int(len(target.visitors) * share)
    if not count:
        return
    last: dict[int, float] = {}
    typists = random.sample(target.visitors, count)
    typing_now = {id(ws) for ws in typists}
    round_start = loop.time()
    while round_start < stop:
        for i in range(count):
            due = round_start + i * TYPING_INTERVAL / count
            if due > loop.time():
                await asyncio.sleep(due - loop.time())
            if loop.time() >= stop:
                break
            if random.random() < 0.1:  # this one sent their message or gave up; another visitor starts
                fresh = random.choice(target.visitors)
                if id(fresh) not in typing_now:
                    typing_now.discard(id(typists[i]))
                    typists[i] = fresh
                    typing_now.add(id(fresh))
            ws = typists[i]
            every = stats.typing_every.get(id(ws), TYPING_INTERVAL)
            if loop.time() - last.get(id(ws), 0.0) < every - 0.01:
                continue  # this visitor's widget was asked to send drafts less often
            last[id(ws)] = loop.time()
            s = next(seq)
            stats.typing_sent[s] = loop.time()
            stats.typing_frames += 1
            await ws.send(target.typing(s))
        round_start += TYPING_INTERVAL
    stats.typing_sent.clear()


async def _closed_loop(target: Target, ws, stats: Stats, stop: float, seq) -> None:
    loop = asyncio.get_running_loop()
    while loop.time() < stop:
        s = next(seq)
        waiter = stats.waiters[s] = loop.create_future()
        stats.sent[s] = loop.time()
        await ws.send(target.message(s, f"c{s}"))
        try:
            await asyncio.wait_for(waiter, 10)
        except TimeoutError:
            stats.waiters.pop(s, None)


async def _settle(stats: Stats, loop, timeout: float) -> None:
    deadline = loop.time() + timeout
    while len(stats.got) < len(stats.sent) and loop.time() < deadline:
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- servers and data


def _start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _wait_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    import socket

    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(log.read_text()[-3000:]) from None
            time.sleep(0.1)
    raise RuntimeError("server did not start")


def _daphne(app: str, port: int, env: dict, log: Path) -> subprocess.Popen:
    proc = _start([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app], env, log)
    _wait_port(port, proc, log)
    return proc


def _daphnes(app: str, count: int, env: dict, logs: Path, name: str) -> tuple[int, list[subprocess.Popen]]:
    """`count` daphne processes accepting on one listening socket (the kernel spreads the connections), as a
    deployment scales one host out; one process is plain `daphne -p`."""
    import socket

    port = _free_port()
    if count <= 1:
        return port, [_daphne(app, port, env, logs / f"{name}.log")]
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(2048)
    os.set_inheritable(listener.fileno(), True)
    procs = []
    for n in range(count):
        log = logs / f"{name}-{n}.log"
        cmd = [sys.executable, "-m", "daphne", "--fd", str(listener.fileno()), app]
        procs.append(subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, pass_fds=(listener.fileno(),)))
    listener.close()  # the servers hold it now
    for n, proc in enumerate(procs):
        _wait_port(port, proc, logs / f"{name}-{n}.log")
    time.sleep(1.0)  # every process has its reactor listening before the load starts
    return port, procs


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_data(run: str, visitors: int, agents: int, teams: int) -> tuple[list[str], list[str], dict]:
    """Teams, agents with room for their share of chats, one widget per team; session cookies."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from chat.models import Widget
    from tickets.models import AgentProfile, Team

    per_agent = -(-visitors // agents) + 2
    keys, cookies, created = [], [], {"teams": [], "users": [], "widgets": []}
    team_objs = [Team.objects.create(name=f"bench {run} team {t}") for t in range(teams)]
    for t, team in enumerate(team_objs):
        widget = Widget.objects.create(name=f"bench {run} {t}", public_key=f"bench-{run}-{t}", team=team)
        keys.append(widget.public_key)
        created["widgets"].append(widget.pk)
    created["teams"] = [t.pk for t in team_objs]
    User = get_user_model()
    for a in range(agents):
        user = User.objects.create_user(username=f"bench-{run}-{a}", password=None, first_name=f"Agent{a}")
        AgentProfile.objects.create(user=user, max_chats=per_agent, availability="offline")
        user.helpdesk_teams.set([team_objs[a % teams]])
        client = Client()
        client.force_login(user)
        cookies.append(client.cookies["sessionid"].value)
        created["users"].append(user.pk)
    return keys, cookies, created


def _bulk_chats(run: str, visitors: int, keys: list[str], created: dict) -> list[str]:
    """Visitors whose chats are already open and assigned (what routing leaves behind), made in bulk so a
    1,000-visitor run does not spend minutes routing on a shared 2-core machine. `--route` routes live."""
    from chat.models import ChatSession, SessionStatus, Widget
    from chat.tokens import new_token, token_hash
    from tickets.crypto import blind_index
    from tickets.models import Contact, ContactIdentity, Ticket

    widgets = {w.public_key: w for w in Widget.objects.filter(public_key__in=keys)}
    users = created["users"]
    tokens = [new_token() for _ in range(visitors)]
    contacts = Contact.objects.bulk_create([Contact(name=f"Visitor {run}-{v}") for v in range(visitors)])
    ContactIdentity.objects.bulk_create(
        [ContactIdentity(contact=c, kind="visitor", address=token_hash(t), address_hash=blind_index(token_hash(t))) for c, t in zip(contacts, tokens, strict=True)]
    )
    tickets, sessions = [], []
    for v, contact in enumerate(contacts):
        widget = widgets[keys[v % len(keys)]]
        team_agents = [u for i, u in enumerate(users) if i % len(keys) == keys.index(widget.public_key)] or users
        agent = team_agents[(v // len(keys)) % len(team_agents)]
        tickets.append(Ticket(subject=f"bench chat {v}", status="open", channel="chat", contact=contact, team_id=widget.team_id, assignee_id=agent))
    tickets = Ticket.objects.bulk_create(tickets)
    for v, (ticket, token) in enumerate(zip(tickets, tokens, strict=True)):
        widget = widgets[keys[v % len(keys)]]
        sessions.append(ChatSession(token_hash=token_hash(token), widget=widget, team_id=widget.team_id, ticket=ticket, contact_id=ticket.contact_id,
                                    status=SessionStatus.ACTIVE, assigned_agent_id=ticket.assignee_id))  # fmt: skip
    ChatSession.objects.bulk_create(sessions)
    return tokens


def _cleanup(created: dict) -> None:
    from django.contrib.auth import get_user_model

    from chat.models import ChatSession, Widget
    from tickets.models import Contact, Team, Ticket

    tickets = Ticket.objects.filter(team_id__in=created["teams"])
    contacts = list(tickets.values_list("contact_id", flat=True))
    ChatSession.objects.filter(widget_id__in=created["widgets"]).delete()
    tickets.delete()
    Contact.objects.filter(pk__in=contacts, tickets__isnull=True).delete()
    Widget.objects.filter(pk__in=created["widgets"]).delete()
    get_user_model().objects.filter(pk__in=created["users"]).delete()
    Team.objects.filter(pk__in=created["teams"]).delete()


# ---------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench chat")
    parser.add_argument("--visitors", type=int, default=200)
    parser.add_argument("--agents", type=int, default=0, help="default: one per 20 visitors")
    parser.add_argument("--teams", type=int, default=0, help="default: one per 5 agents")
    parser.add_argument("--rate", type=float, default=100.0, help="aggregate visitor messages per second")
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--ceiling", type=float, default=8.0, help="seconds of the closed-loop phase")
    parser.add_argument("--typing", type=float, default=TYPING_SHARE, help="share of visitors typing at any moment")
    parser.add_argument("--senders", type=int, default=50, help="visitors in the closed loop of the ceiling phase")
    parser.add_argument("--processes", type=int, default=1, help="daphne processes for the product (one socket, as one host scales out)")
    parser.add_argument("--skip-baselines", action="store_true")
    parser.add_argument("--route", action="store_true", help="route every chat live (slow) instead of bulk-assigning")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--serve-raw", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_raw:
        asyncio.run(_serve_raw(args.serve_raw))
        return 0

    from .common import ensure_database, setup_django

    setup_django("postgres://postgres@127.0.0.1:5432/hd_bench_chat")
    ensure_database()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    agents = args.agents or max(2, args.visitors // 20)
    teams = args.teams or max(1, agents // 5)
    run = f"{int(time.time())}"
    env = {
        **os.environ,
        "HELPDESK_TESTING": "0",
        "DEBUG": "0",
        "HTTPS": "0",
        "LOG_LEVEL": "WARNING",
        "CHANNEL_PREFIX": f"hdbenchchat{run}",
        "CELERY_QUEUE": f"hdbenchchat{run}",
        "EVENT_LISTENERS": "worker",
        # The bench's visitors send far above a person's pace; the per-visitor budget would refuse them.
        "CHAT_VISITOR_MESSAGES": "1000000",
        # Persistent database connections, as a production deployment sets them: with the default (0) every
        # database call of a socket opens a new PostgreSQL connection (measured: 9 vs 20 msg/s delivered).
        "DB_CONN_MAX_AGE": os.environ.get("DB_CONN_MAX_AGE", "60"),
    }
    logs = Path(os.environ.get("VAR_DIR", ROOT / "var")) / "bench"
    logs.mkdir(parents=True, exist_ok=True)
    keys, cookies, created = _prepare_data(run, args.visitors, agents, teams)
    tokens = [] if args.route else _bulk_chats(run, args.visitors, keys, created)
    print(f"chat bench: {args.visitors} visitors, {agents} agents in {teams} teams, {args.rate:g} msg/s for {args.duration:g}s "
          f"with {int(args.typing * 100)}% typing, ceiling {args.ceiling:g}s; {os.cpu_count()} CPUs", flush=True)  # fmt: skip
    results = []
    try:
        port, procs = _daphnes("helpdesk.asgi:application", args.processes, env, logs, "product")
        # As deployed: ticket-event listeners (SLA, automation, webhooks, points, indexing) run in a worker.
        worker = _start([sys.executable, "-m", "celery", "-A", "helpdesk", "--quiet", "worker", "-l", "warning", "-c", "1", "-Q", env["CELERY_QUEUE"]], env, logs / "worker.log")
        try:
            pids = [p.pid for p in procs]
            target = ProductTarget(f"ws://127.0.0.1:{port}", pids if len(pids) > 1 else pids[0], keys, cookies, f"http://127.0.0.1:{port}", tokens)
            if len(pids) > 1:
                target.name += f", {len(pids)} daphne processes"
            results.append(asyncio.run(run_load(target, visitors=args.visitors, agents=agents, rate=args.rate, duration=args.duration, ceiling=args.ceiling, senders=args.senders, typing=args.typing)))
        finally:
            for proc in procs:
                _stop(proc)
            _stop(worker)
        if not args.skip_baselines:
            port = _free_port()
            proc = _daphne("bench.chat:relay_application", port, env, logs / "relay.log")
            try:
                target = RelayTarget(f"ws://127.0.0.1:{port}", proc.pid, "bare Channels relay (daphne, same layer)")
                results.append(asyncio.run(run_load(target, visitors=args.visitors, agents=agents, rate=args.rate, duration=args.duration, ceiling=args.ceiling, senders=args.senders, typing=args.typing)))
            finally:
                _stop(proc)
            port = _free_port()
            log = logs / "raw.log"
            proc = _start([sys.executable, "-m", "bench", "chat", "--serve-raw", str(port)], env, log)
            _wait_port(port, proc, log)
            try:
                target = RelayTarget(f"ws://127.0.0.1:{port}", proc.pid, "raw websockets relay")
                results.append(asyncio.run(run_load(target, visitors=args.visitors, agents=agents, rate=args.rate, duration=args.duration, ceiling=args.ceiling, senders=args.senders, typing=args.typing)))
            finally:
                _stop(proc)
    finally:
        _cleanup(created)
    _report(results)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


def _report(results: list[dict]) -> None:
    def ms(d: dict, key: str) -> str:
        return f"{d[key]:.1f}" if d.get("n") else "-"

    print("\n| server | msgs/s @ offered | msg p50/p95/p99 ms | typing drafts/s, p50/p95/p99 ms | late >5 s / not delivered by the end | errors | CPU-ms/msg | ceiling msgs/s | ceiling CPU-ms/msg | RSS/conn KiB |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        s, c = r["steady"], r["ceiling"]
        m, t = s["message_latency_ms"], s["typing_latency_ms"]
        print(
            f"| {r['target']} | {s['messages_per_s']:.0f} @ {s['offered_rate']:g} | {ms(m, 'p50')}/{ms(m, 'p95')}/{ms(m, 'p99')} "
            f"| {s['typing_frames_per_s']:.0f}: {ms(t, 'p50')}/{ms(t, 'p95')}/{ms(t, 'p99')} | {s['late_over_5s']} / {s['dropped']} | {s['errors'] + c['errors']} "
            f"| {s['cpu_ms_per_message']:.2f} | {c['messages_per_s']:.0f} | {c['cpu_ms_per_message']:.2f} | {r['rss_per_connection_kib']:.0f} |"
        )
    if len(results) > 1:
        product = results[0]["ceiling"]["messages_per_s"]
        for r in results[1:]:
            base = r["ceiling"]["messages_per_s"]
            print(f"product ceiling / {r['target']}: {product / base:.0%}" if base else "")
