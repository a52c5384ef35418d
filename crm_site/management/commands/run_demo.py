"""manage.py run_demo: the web server, a Celery worker and beat together, stopped together (`make run`).

With no CELERY_BROKER_URL in the environment the three processes get ``filesystem://``: the embedded
mode (kombu's filesystem transport under CELERY_EMBEDDED_DIR, see crm_site/settings/base.py), so
"Rebuild now", imports and the nightly schedule run in a worker on this machine with nothing else
installed. A real broker in the environment (``redis://...``) is passed through unchanged.

Each child runs in its own process group; Ctrl-C, SIGTERM or SIGHUP to this command (GNU make passes
SIGTERM on), the death of its parent, or the exit of any child stops all three: SIGTERM to each group,
then SIGKILL to whatever is left after the grace period. On Linux each child also gets SIGTERM if this
process is killed outright (PR_SET_PDEATHSIG), so nothing is left behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crm_site.demo import add_production_guard, refuse_in_production

# A host part only so that kombu does not warn "No hostname was supplied"; the transport ignores it.
EMBEDDED_BROKER_URL = "filesystem://localhost/"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child, before exec: a new process group, and SIGTERM when the launcher dies (Linux)."""
    os.setsid()
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _pump(name: str, stream: IO[bytes], out: Any) -> None:
    """Copy a child's output line by line, each line prefixed with the child's name."""
    for raw in iter(stream.readline, b""):
        out.write(f"[{name}] {raw.decode(errors='replace').rstrip()}")
        out.flush()
    stream.close()


class Command(BaseCommand):
    help = (
        "Serve the site with runserver and run a Celery worker and beat beside it (embedded filesystem "
        "broker unless CELERY_BROKER_URL is set); Ctrl-C stops all three."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000", help="runserver's address")
        parser.add_argument("--noreload", action="store_true", help="runserver without the auto-reloader")
        parser.add_argument(
            "--grace", type=float, default=15.0, help="seconds to wait after SIGTERM before SIGKILL"
        )
        add_production_guard(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        refuse_in_production(options)
        self.stopping = ""
        self.children: dict[str, subprocess.Popen] = {}
        env = self.child_env()
        for sig in STOP_SIGNALS:
            signal.signal(sig, self.on_signal)
        parent = os.getppid()
        code = 0
        try:
            self.start_all(env, addrport=options["addrport"], noreload=options["noreload"])
            broker = env["CELERY_BROKER_URL"].split("://", 1)[0]
            self.stdout.write(f"run_demo: web, worker and beat started ({broker} broker); Ctrl-C stops all.")
            while not self.stopping:
                ended = [name for name, child in self.children.items() if child.poll() is not None]
                if ended:
                    self.stopping = f"{ended[0]} exited with {self.children[ended[0]].returncode}"
                    code = 1
                elif os.getppid() != parent:
                    self.stopping = "parent process gone"
                time.sleep(0.2)
        finally:
            self.stdout.write(f"run_demo: stopping web, worker and beat ({self.stopping or 'error'})...")
            self.stop_all(grace=options["grace"])
            self.stdout.write("run_demo: stopped.")
        if code:
            raise CommandError(f"run_demo: {self.stopping}")

    def on_signal(self, signum: int, frame: Any) -> None:
        self.stopping = signal.Signals(signum).name

    def child_env(self) -> dict[str, str]:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.setdefault("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE)
        if not env.get("CELERY_BROKER_URL"):
            env["CELERY_BROKER_URL"] = EMBEDDED_BROKER_URL
        return env

    def commands(self, *, addrport: str, noreload: bool) -> dict[str, list[str]]:
        run_dir = Path(settings.BASE_DIR) / ".run"
        run_dir.mkdir(exist_ok=True)
        celery = [sys.executable, "-m", "celery", "-A", "crm_site"]
        return {
            "worker": [
                *celery,
                "worker",
                "--pool",
                "solo",
                "--concurrency",
                "1",
                "--loglevel",
                "INFO",
                "--hostname",
                f"demo-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            "beat": [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--pidfile",
                str(run_dir / "beat.pid"),
            ],
            "web": [
                sys.executable,
                "manage.py",
                "runserver",
                addrport,
                *(["--noreload"] if noreload else []),
            ],
        }

    def start_all(self, env: dict[str, str], *, addrport: str, noreload: bool) -> None:
        for name, command in self.commands(addrport=addrport, noreload=noreload).items():
            if self.stopping:
                return
            self.children[name] = subprocess.Popen(
                command,
                cwd=settings.BASE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # setsid and prctl only, before exec
            )
        for name, child in self.children.items():
            assert child.stdout is not None
            threading.Thread(target=_pump, args=(name, child.stdout, self.stdout), daemon=True).start()

    def stop_all(self, *, grace: float) -> None:
        """SIGTERM to every child's process group, SIGKILL to the groups still there after ``grace``."""
        for sig in STOP_SIGNALS:
            signal.signal(sig, signal.SIG_IGN)  # a second Ctrl-C must not interrupt the clean-up
        for child in self.children.values():
            self.signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for child in self.children.values():
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for child in self.children.values():
            # Also whatever the child started itself (runserver's reloaded server) and left running.
            self.signal_group(child, signal.SIGKILL)
            child.wait()

    @staticmethod
    def signal_group(child: subprocess.Popen, sig: int) -> None:
        try:
            os.killpg(child.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass
