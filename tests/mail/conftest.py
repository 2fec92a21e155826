"""Real servers for the mail tests: a private dovecot (IMAP) and an aiosmtpd sink (SMTP)."""

from __future__ import annotations

import imaplib
import itertools
import json
import shutil
import tempfile
from pathlib import Path

import pytest

from mail.models import Mailbox
from tests.factories import TeamFactory

from .dovecot import Dovecot, free_port

CORPUS = Path(__file__).resolve().parent.parent / "fixtures" / "mail" / "corpus"
MANIFEST = json.loads((CORPUS / "manifest.json").read_text())
_users = itertools.count(1)


def corpus_bytes(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture(scope="session")
def dovecot():
    # Not under pytest's tmp dir: that one is private to our user, and dovecot's own account (when we
    # run as root) must be able to reach its files.
    root = Path(tempfile.mkdtemp(prefix="hd-dovecot-"))
    server = Dovecot(root).start()
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


class ImapAccount:
    """A fresh dovecot user; `append` delivers mail the way an MTA would, `flags` reads them back."""

    def __init__(self, server: Dovecot, user: str, password: str) -> None:
        self.server, self.user, self.password = server, user, password

    def connect(self) -> imaplib.IMAP4:
        conn = imaplib.IMAP4(self.server.host, self.server.port, timeout=10)
        conn.login(self.user, self.password)
        return conn

    def append(self, *messages: bytes, folder: str = "INBOX") -> None:
        conn = self.connect()
        try:
            for raw in messages:
                typ, data = conn.append(folder, None, None, raw)
                assert typ == "OK", data
        finally:
            conn.logout()

    def flags(self, folder: str = "INBOX") -> dict[int, str]:
        """UID -> flags string of every message in the folder."""
        conn = self.connect()
        try:
            conn.select(folder, readonly=True)
            typ, data = conn.uid("FETCH", "1:*", "(UID FLAGS)")
            result = {}
            for line in data or []:
                if isinstance(line, bytes) and b"UID" in line:
                    text = line.decode()
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    result[uid] = text.split("FLAGS (")[1].split(")")[0]
            return result
        finally:
            conn.logout()

    def count(self, folder: str = "INBOX") -> int:
        conn = self.connect()
        try:
            typ, data = conn.select(folder, readonly=True)
            return int(data[0]) if typ == "OK" else 0
        finally:
            conn.logout()


@pytest.fixture
def imap_account(dovecot):
    user = f"desk{next(_users)}"
    dovecot.add_user(user, "secret-pw")
    return ImapAccount(dovecot, user, "secret-pw")


@pytest.fixture
def mailbox(db, imap_account):
    team = TeamFactory(name="Support")
    return Mailbox.objects.create(
        name="Support",
        email_address="support@example.com",
        team=team,
        imap_host=imap_account.server.host,
        imap_port=imap_account.server.port,
        imap_security="none",
        imap_username=imap_account.user,
        imap_password=imap_account.password,
    )


class SmtpSink:
    """aiosmtpd on a free port; `stop()`/`start()` take the server away and bring it back on the same port."""

    def __init__(self) -> None:
        self.messages: list = []
        self.refuse_with: str | None = None
        self.port = free_port()
        self.controller = None

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.refuse_with:
                    return sink.refuse_with
                sink.messages.append(envelope)
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def parsed(self, index: int = -1):
        import email
        import email.policy

        return email.message_from_bytes(self.messages[index].original_content, policy=email.policy.default)


@pytest.fixture
def smtp_sink():
    sink = SmtpSink()
    sink.start()
    yield sink
    sink.stop()
