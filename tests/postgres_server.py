"""A real PostgreSQL server for tests and benchmarks: Debian's binaries, a cluster made
by ``initdb`` in a temporary folder, listening on a free loopback port only.

PostgreSQL refuses to run as root; as root the cluster is made and run as ``nobody``
(through ``runuser``), otherwise as the current user. ``python -m tests.postgres_server``
starts one and prints its URL (for trying the PostgreSQL back end by hand).
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.servers import free_port

USER = "ivb"
# Tests kill clients, never the server: durability against power loss is not needed.
FAST = ("-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")


def postgres_bin() -> Path | None:
    """The folder of Debian's PostgreSQL binaries (the newest version), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _version(path: str) -> tuple[int, ...]:
    part = Path(path).parent.parent.name
    return tuple(int(x) for x in part.split(".") if x.isdigit())


@dataclass
class PostgresServer:
    """A running cluster: connect as ``USER`` without a password, on loopback."""

    port: int
    datadir: Path

    def url(self, database: str = "postgres", schema: str | None = None) -> str:
        """A libpq URL; with ``schema``, tables are made and read in that schema."""
        base = f"postgresql://{USER}@127.0.0.1:{self.port}/{database}"
        return base + (f"?options=-csearch_path%3D{schema}" if schema else "")

    def new_schema(self, database: str = "postgres") -> str:
        """A URL whose search_path is a new, empty schema (one store per schema)."""
        import psycopg

        name = "s_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.url(database), autocommit=True) as conn:
            conn.execute(f"CREATE SCHEMA {name}")
        return self.url(database, name)


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    return ["runuser", "-u", "nobody", "--", *cmd]


@contextlib.contextmanager
def postgres_server(fast: bool = True) -> Iterator[PostgresServer]:
    """Start a throw-away cluster in a new folder of the system's temporary folder (which
    ``nobody`` can reach, unlike pytest's), and stop and delete it afterwards.

    Args:
        fast: turn off fsync and synchronous commit (tests); False for benchmarks that
            compare against SQLite as it runs by default.

    Raises:
        RuntimeError: no PostgreSQL binaries (install Debian's ``postgresql``), or the
            server did not start (its log is in the message).
    """
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql")
    root = Path(tempfile.mkdtemp(prefix="ivb-pg-"))
    datadir, log = root / "data", root / "server.log"
    if os.geteuid() == 0:
        os.chmod(root, 0o755)
        shutil.chown(root, "nobody")
    env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
    made = subprocess.run(
        _as_owner([str(bindir / "initdb"), "-D", str(datadir), "-U", USER, "--auth=trust",
                   "-E", "UTF8", "--no-sync"]),
        capture_output=True, text=True, env=env, cwd=root,
    )  # fmt: skip
    if made.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"initdb failed: {made.stderr[-2000:]}")
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' " + (
        " ".join(FAST) if fast else ""
    )
    started = subprocess.run(
        _as_owner([str(bindir / "pg_ctl"), "-D", str(datadir), "-l", str(log), "-o", options,
                   "-w", "-t", "60", "start"]),
        capture_output=True, text=True, env=env, cwd=root,
    )  # fmt: skip
    if started.returncode != 0:
        text = log.read_text(errors="replace") if log.exists() else started.stderr
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {text[-2000:]}")
    try:
        yield PostgresServer(port=port, datadir=datadir)
    finally:
        subprocess.run(
            _as_owner([str(bindir / "pg_ctl"), "-D", str(datadir), "-m", "immediate", "-w",
                       "stop"]),
            capture_output=True, env=env, cwd=root,
        )  # fmt: skip
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    with postgres_server() as server:
        print(server.url(), flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
