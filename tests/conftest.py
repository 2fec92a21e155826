"""Shared test infrastructure: a real ASGI server (daphne) on the test database, websocket clients,
and headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.factories import AgentFactory, TeamFactory

# Playwright's sync API and asyncio.run() in tests run an event loop in the main thread; the ORM calls the
# tests make around them are still synchronous.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class ServerProcess:
    def __init__(self, port: int, proc: subprocess.Popen, log_path: Path) -> None:
        self.port, self.proc, self.log_path = port, proc, log_path
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


@pytest.fixture(scope="session", autouse=True)
def _end_other_db_sessions(django_db_setup, django_db_blocker):
    """Dropping the test database at the end fails while anything still holds a session on it (a server just
    stopped, a thread of a websocket test): end those sessions first."""
    yield
    from django.db import connection

    with django_db_blocker.unblock():
        if connection.vendor != "postgresql" or connection.settings_dict["NAME"] != connection.creation._get_test_db_name():
            return  # SQLite, or no test needed a database and none was created
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def _wait_for_other_sessions_to_settle(connection, timeout: float = 10.0) -> None:
    """Wait until no other session on the test database is running a statement or holds a transaction open
    (a server under test still finishing what a test's last frames asked for), and has stayed so briefly."""
    deadline = time.monotonic() + timeout
    quiet_since = None
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
                " AND state IS NOT NULL AND state <> 'idle'"
            )
            busy = cursor.fetchone()[0]
        now = time.monotonic()
        if busy:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= 0.2:
            return
        time.sleep(0.05)


def _flush_after_live_servers() -> None:
    """A transactional test ends with a TRUNCATE of every table. A server process of the test (daphne, a
    worker) may still be writing what the test's last frames caused (a socket closed, an agent went
    offline): its transaction and the TRUNCATE then take their locks in opposite orders and PostgreSQL
    aborts one of them as a deadlock. Let those sessions settle first, and retry the flush if it still
    lost such a race."""
    from django.core.management.base import CommandError
    from django.db import connections
    from django.test import testcases

    original = testcases.TransactionTestCase._fixture_teardown

    def _fixture_teardown(self):
        for attempt in range(5):
            for alias in self._databases_names(include_mirrors=False):
                connection = connections[alias]
                if connection.vendor == "postgresql":
                    _wait_for_other_sessions_to_settle(connection)
            try:
                return original(self)
            except CommandError as exc:
                cause = exc.__cause__
                lost_a_lock_race = cause is not None and ("deadlock" in str(cause).lower() or "Lock" in type(cause).__name__)
                if attempt == 4 or not lost_a_lock_race:
                    raise
                time.sleep(0.5)

    testcases.TransactionTestCase._fixture_teardown = _fixture_teardown


_flush_after_live_servers()


def start_server(tmp_dir: Path, extra_env: dict | None = None, app: str = "helpdesk.asgi:application") -> ServerProcess:
    """daphne on a free port, on the test database and this run's Redis prefix."""
    port = free_port()
    env = {**os.environ, "DATABASE_URL": _database_url(), "HELPDESK_TESTING": "1", "HTTPS": "0", "DEBUG": "0", **(extra_env or {})}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the server under test keeps Django's async safety checks
    log_path = tmp_dir / f"daphne-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), app],
        cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return ServerProcess(port, proc, log_path)
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("daphne exited:\n" + log_path.read_text())
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("daphne did not start:\n" + log_path.read_text())


def pytest_collection_modifyitems(config, items):
    """Tests that use the browser run last: once Playwright's sync API has started, the main thread has a
    running event loop and asyncio.run() in websocket tests fails. The sort is stable: order is kept otherwise."""
    items.sort(key=lambda item: "browser" in getattr(item, "fixturenames", ()))


@pytest.fixture(scope="session")
def asgi_server(django_db_setup, django_db_blocker, tmp_path_factory):
    """A running daphne serving helpdesk.asgi on the test database (use with `transactional_db`)."""
    server = start_server(tmp_path_factory.mktemp("server"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _asyncio_run_beside_playwright(monkeypatch):
    """Playwright's sync API leaves an event loop running in the main thread for the whole session
    (the `browser` fixture). `asyncio.run()` in a later test then runs its coroutine in a fresh thread."""
    original = asyncio.run

    def run(coro, **kwargs):
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return original(coro, **kwargs)
        outcome: dict = {}

        def target() -> None:
            try:
                outcome["value"] = original(coro, **kwargs)
            except BaseException as exc:  # re-raised in the test's thread
                outcome["error"] = exc

        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
        if "error" in outcome:
            raise outcome["error"]
        return outcome.get("value")

    monkeypatch.setattr(asyncio, "run", run)
    yield


@pytest.fixture(autouse=True)
def _reset_login_limits():
    """Login failures are counted per IP in Redis; every test starts with a clean count."""
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    for key in client.scan_iter(f"{settings.CACHES['default']['KEY_PREFIX']}:*login-fail*"):
        client.delete(key)
    client.close()
    yield


@pytest.fixture
def team(db):
    return TeamFactory(name="Support")


@pytest.fixture
def agent(db, team):
    return AgentFactory(username="alice", first_name="Alice", teams=[team])


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


class WsClient:
    """A real websocket client (the `websockets` package) speaking JSON frames."""

    def __init__(self, conn) -> None:
        self.conn = conn

    async def send(self, frame: dict) -> None:
        await self.conn.send(json.dumps(frame))

    async def recv(self, timeout: float = 5.0) -> dict:
        return json.loads(await asyncio.wait_for(self.conn.recv(), timeout))

    async def recv_until(self, predicate, timeout: float = 5.0) -> dict:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                raise TimeoutError("no matching frame")
            frame = await self.recv(remaining)
            if predicate(frame):
                return frame

    async def close(self) -> None:
        await self.conn.close()


async def ws_connect(server: ServerProcess, path: str, *, cookie: str | None = None, origin: str | None = None) -> WsClient:
    import websockets

    headers = {}
    if cookie:
        headers["Cookie"] = f"{settings.SESSION_COOKIE_NAME}={cookie}"
    conn = await websockets.connect(server.ws_url + path, additional_headers=headers, origin=origin or server.url, max_size=2**22)
    return WsClient(conn)


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium (Playwright's own browser download does not work here)."""
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=executable,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


def login_page(browser, server: ServerProcess, username: str, password: str = "pw"):
    context = browser.new_context()
    page = context.new_page()
    page.goto(server.url + "/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/agent/**")
    return page
