"""A private PostgreSQL server for the test session: its own data folder, trust auth, a free loopback port.

Nothing on the machine is assumed to be running: `initdb` makes a throw-away cluster in a
temporary folder, `pg_ctl` starts it on 127.0.0.1 at a port the kernel picked, and the session
stops it and deletes the folder at the end. As root the server runs as the `postgres` OS user
(PostgreSQL refuses to run as root). `MONITOR_TEST_PG_ADMIN` points the tests at a server of
your own instead. `fresh_database` gives the database-backed fixtures a throw-away database on
SQLite or on that server.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """PostgreSQL's server binaries are not installed, or the server would not start."""


def _bindir() -> Path:
    found = shutil.which("pg_config")
    if found:
        out = subprocess.run([found, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if out and (Path(out) / "initdb").exists():
            return Path(out)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed; "
                                  "install e.g. Debian's postgresql package or set MONITOR_TEST_PG_ADMIN")
    return Path(candidates[0]).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


def _up(url: str) -> bool:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.OperationalError:
        return False


@contextmanager
def private_postgres() -> Iterator[str]:
    """Yield the admin URL (`postgresql://postgres@127.0.0.1:PORT/postgres`) of a fresh server."""
    given = os.environ.get("MONITOR_TEST_PG_ADMIN")
    if given:
        if not _up(given):
            raise PostgresUnavailable(f"MONITOR_TEST_PG_ADMIN={given} is not reachable")
        yield given
        return
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="monitor-test-pg-"))
    data, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres")
    root.chmod(0o700)
    port = _free_port()
    init = subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                                           "--no-sync", "-E", "UTF8", "--locale=C"]),
                          capture_output=True, text=True, check=False)
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise PostgresUnavailable(f"initdb failed: {init.stderr.strip()[-500:]}")
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={root} "
               "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
    start = subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
                                            "-w", "-t", "60", "start"]),
                           capture_output=True, text=True, check=False)
    url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
    try:
        if start.returncode != 0:
            tail = log.read_text()[-800:] if log.exists() else start.stderr
            raise PostgresUnavailable(f"pg_ctl start failed: {tail.strip()}")
        for _ in range(60):
            if _up(url):
                break
            time.sleep(0.5)
        else:
            raise PostgresUnavailable(f"the private PostgreSQL server did not answer at {url}")
        yield url
    finally:
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def fresh_database(backend: str, *, sqlite_dir: Path, admin_url: Callable[[], str], prefix: str) -> Iterator[str]:
    """Yield the URL of a fresh, empty database: `monitor.db` in `sqlite_dir` for "sqlite", else a
    database `{prefix}_<random>` created on the server at `admin_url()` (asked only then) and dropped,
    connections and all, at the end."""
    if backend == "sqlite":
        yield f"sqlite:///{sqlite_dir}/monitor.db"
        return
    import psycopg

    admin = admin_url()
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
