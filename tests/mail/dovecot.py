"""A private dovecot IMAP server for tests and the email benchmark.

Debian's `dovecot-imapd` runs here from a config of its own under a temporary directory: a free loopback
port, plaintext login (loopback only), users from a static passwd-file, maildirs under the same directory.
Nothing is installed system-wide and no system service is touched; `stop()` ends only the process it started.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil

DOVECOT = os.environ.get("DOVECOT_BIN", "/usr/sbin/dovecot")

CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
# Tests log in with wrong passwords on purpose (dovecot's per-IP auth penalty still applies: such tests
# use a server of their own).
auth_failure_delay = 0 secs
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = {uid}
last_valid_uid = {uid}
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {gid}
imap_idle_notify_interval = 1 secs
mailbox_list_index = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service auth {{
  unix_listener auth-userdb {{
    mode = 0600
    user = {user}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
protocol imap {{
  mail_max_userip_connections = 50
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    """`Dovecot(tmp_dir).start()`; `add_user(name, password)`; `restart()`; `stop()`."""

    def __init__(self, root: Path, port: int | None = None) -> None:
        self.root = Path(root)
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.users: dict[str, str] = {}
        self.proc: subprocess.Popen | None = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Dovecot:
        if not Path(DOVECOT).exists():
            raise RuntimeError(f"{DOVECOT} is missing: install the dovecot-imapd package (./test does)")
        for sub in ("run", "state", "mail", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        account = _run_as()
        (self.root / "dovecot.conf").write_text(CONFIG.format(root=self.root, port=self.port, **account))
        self._write_passwd()
        if os.getuid() == 0:
            # dovecot drops to the unprivileged account for mail access: it must own the tree.
            for path in [self.root, *self.root.rglob("*")]:
                os.chown(path, account["uid"], account["gid"])
        self.proc = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL, stderr=(self.root / "dovecot.stderr").open("ab"),
        )  # fmt: skip
        self._wait_listening()
        return self

    def stop(self) -> None:
        if self.proc is None:
            return
        children = self._children()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc = None
        # imap processes serving clients may outlive the master: a stop ends them too.
        for child in children:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(children, timeout=5)
        deadline = time.time() + 10
        while time.time() < deadline and _listening(self.host, self.port):
            time.sleep(0.05)

    def restart(self) -> None:
        self.stop()
        self.start()

    def kill_connections(self) -> None:
        """Drop every client connection at once, the way a crashing imap process does (the master survives)."""
        imap = [c for c in self._children() if _name(c) in {"imap", "imap-login"}]
        for child in imap:
            with contextlib.suppress(psutil.Error):
                child.kill()
        psutil.wait_procs(imap, timeout=5)

    def _children(self) -> list:
        if self.proc is None:
            return []
        try:
            return psutil.Process(self.proc.pid).children(recursive=True)
        except psutil.Error:
            return []

    def log(self) -> str:
        parts = []
        for name in ("dovecot.log", "dovecot.stderr"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    # ------------------------------------------------------------------ users and mail

    def add_user(self, name: str, password: str) -> None:
        """Add an account and wait until dovecot's auth process accepts it (it re-reads the passwd-file)."""
        self.users[name] = password
        self._write_passwd()
        if self.proc is None:
            return
        import imaplib

        deadline = time.time() + 15
        while True:
            try:
                conn = imaplib.IMAP4(self.host, self.port, timeout=10)
                conn.login(name, password)
                conn.logout()
                return
            except imaplib.IMAP4.error:
                if time.time() > deadline:
                    raise
                self._write_passwd()
                time.sleep(0.2)

    def maildir(self, user: str) -> Path:
        return self.root / "mail" / user

    def wipe_mailbox(self, user: str) -> None:
        """Delete a user's mail store: the next SELECT sees a new UIDVALIDITY (what a server migration does)."""
        shutil.rmtree(self.maildir(user), ignore_errors=True)

    def _write_passwd(self) -> None:
        # Atomic replace with a fresh mtime: dovecot never reads a half-written file, and always sees a change.
        path = self.root / "passwd"
        tmp = self.root / "passwd.tmp"
        tmp.write_text("".join(f"{u}:{{PLAIN}}{p}::::::\n" for u, p in self.users.items()))
        if os.getuid() == 0:
            account = _run_as()
            os.chown(tmp, account["uid"], account["gid"])
        stamp = time.time() + len(self.users)
        os.utime(tmp, (stamp, stamp))
        os.replace(tmp, path)

    def _wait_listening(self) -> None:
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("dovecot exited:\n" + self.log())
            if _listening(self.host, self.port):
                return
            time.sleep(0.05)
        raise RuntimeError("dovecot did not start listening:\n" + self.log())


def _name(process) -> str:
    try:
        return " ".join(process.cmdline()).replace("dovecot/", "").split()[0]
    except (psutil.Error, IndexError):
        return ""


def _listening(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def _run_as() -> dict:
    """The account dovecot runs as: the current one, or the package's `dovecot` user when we are root."""
    if os.getuid() == 0:
        try:
            entry = pwd.getpwnam("dovecot")
        except KeyError:
            entry = pwd.getpwnam("nobody")
    else:
        entry = pwd.getpwuid(os.getuid())
    import grp

    return {"user": entry.pw_name, "group": grp.getgrgid(entry.pw_gid).gr_name, "uid": entry.pw_uid, "gid": entry.pw_gid}
