"""A throw-away Dovecot IMAP server on 127.0.0.1 for the mail-in tests and the mail fetch benchmark.

Debian's ``dovecot-imapd``, started with a config of its own in a temporary directory: passwd-file
users (one new mailbox per test, ``Dovecot.mailbox()``, from users written before the start),
plaintext login allowed (it only listens on 127.0.0.1), maildirs, a free port, its sockets, state and
log under a temporary directory removed when it stops. As root (CI) the mail is owned by ``nobody``
(Dovecot refuses UID 0); as any other user every Dovecot process runs as that user.
"""

from __future__ import annotations

import grp
import imaplib
import os
import pwd
import re
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
NOBODY = 65534
POOL = 100  # users written before the start


def dovecot_available() -> bool:
    return Path(DOVECOT).is_file() and os.access(DOVECOT, os.X_OK)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class ImapLogin:
    """One mailbox on the test server: its user and password, and a way to put mail in it."""

    host: str
    port: int
    username: str
    password: str

    def client(self) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=30)
        client.login(self.username, self.password)
        return client

    def append(self, *messages: bytes, folder: str = "INBOX") -> list[int]:
        """APPEND the raw messages in order; their UIDs."""
        uids = []
        client = self.client()
        try:
            for raw in messages:
                answer: Any = client.append(folder, None, None, raw)  # type: ignore[arg-type]
                status, data = answer
                if status != "OK":
                    raise RuntimeError(f"APPEND refused: {data!r}")
                found = re.search(rb"APPENDUID \d+ (\d+)", data[0] or b"")
                uids.append(int(found.group(1)) if found else 0)
        finally:
            client.logout()
        return uids


@dataclass
class Dovecot:
    directory: Path
    mail_root: Path
    port: int
    process: subprocess.Popen | None = None
    host: str = "127.0.0.1"
    users: list[str] = field(default_factory=list)
    spare: list[ImapLogin] = field(default_factory=list)

    @property
    def passwd(self) -> Path:
        return self.directory / "passwd"

    def mailbox(self) -> ImapLogin:
        """A new, empty mailbox: the next user of those written before the start (more are added later,
        but Dovecot notices a changed users file only a second after its last read)."""
        if not self.spare:
            self.add_users(POOL)
            time.sleep(1.1)
        return self.spare.pop(0)

    def add_users(self, count: int) -> None:
        uid, gid = (NOBODY, NOBODY) if os.geteuid() == 0 else (os.getuid(), os.getgid())
        with self.passwd.open("a") as passwd:
            for _ in range(count):
                username = f"crm{len(self.users)}x{secrets.token_hex(3)}"
                password = secrets.token_urlsafe(12)
                passwd.write(f"{username}:{{PLAIN}}{password}:{uid}:{gid}::{self.mail_root / username}::\n")
                self.users.append(username)
                self.spare.append(ImapLogin(self.host, self.port, username, password))

    def log(self) -> str:
        path = self.directory / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        shutil.rmtree(self.directory, ignore_errors=True)


def _config(directory: Path, mail_root: Path, port: int) -> str:
    lines = [
        "protocols = imap",
        "listen = 127.0.0.1",
        f"base_dir = {directory / 'run'}",
        f"state_dir = {directory / 'state'}",
        f"instance_name = crm-test-{port}",
        f"log_path = {directory / 'dovecot.log'}",
        "ssl = no",
        "disable_plaintext_auth = no",
        "auth_mechanisms = plain login",
        "auth_failure_delay = 0",  # the wrong-password test would slow every later login
        f"mail_location = maildir:{mail_root}/%u",
        "passdb {",
        "  driver = passwd-file",
        f"  args = scheme=PLAIN username_format=%u {directory / 'passwd'}",
        "}",
        "userdb {",
        "  driver = passwd-file",
        f"  args = username_format=%u {directory / 'passwd'}",
        "}",
        "service imap-login {",
        "  chroot =",
        "  inet_listener imap {",
        "    address = 127.0.0.1",
        f"    port = {port}",
        "  }",
        "  inet_listener imaps {",
        "    port = 0",
        "  }",
        "}",
        "service anvil {",
        "  chroot =",
        "}",
        "service pop3-login {",
        "  chroot =",
        "}",
        "service submission-login {",
        "  chroot =",
        "}",
    ]
    if os.geteuid() != 0:
        me, group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
        lines += [
            f"default_login_user = {me}",
            f"default_internal_user = {me}",
            f"default_internal_group = {group}",
        ]
    return "\n".join(lines) + "\n"


def dovecot_start(*, timeout: float = 15) -> Dovecot:
    """Start Dovecot in the foreground on a free port and wait until it answers IMAP.

    Its folder is a new one under the system's temporary directory, not pytest's: Dovecot's auth
    process (user ``dovecot`` as root) and the mail user (``nobody``) must reach the users file and the
    maildirs, and pytest's temporary folders are 0700. ``stop()`` removes it.
    """
    directory = Path(tempfile.mkdtemp(prefix="crm-dovecot-"))
    directory.chmod(0o755)
    (directory / "run").mkdir()
    (directory / "state").mkdir()
    mail_root = directory / "mail"
    mail_root.mkdir()
    if os.geteuid() == 0:
        os.chown(mail_root, NOBODY, NOBODY)
    port = _free_port()
    conf = directory / "dovecot.conf"
    conf.write_text(_config(directory, mail_root, port))
    server = Dovecot(directory=directory, mail_root=mail_root, port=port)
    server.add_users(POOL)
    server.process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)],
        stdout=subprocess.DEVNULL,
        stderr=(directory / "stderr.log").open("wb"),
        start_new_session=True,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            break
        try:
            with socket.create_connection((server.host, port), timeout=1) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    return server
        except OSError:
            time.sleep(0.1)
    errors = (directory / "stderr.log").read_text(errors="replace")
    server.stop()
    raise RuntimeError(f"dovecot did not start on port {port}: {errors}\n{server.log()}")
