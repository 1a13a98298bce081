"""A throwaway PostgreSQL cluster on a loopback port: shared Optuna storage for many HPO workers.

PostgreSQL's initdb/pg_ctl refuse to run as root, so when we are root the cluster is created and
run as the `postgres` system user (`runuser`), in a directory owned by that user. Password auth
(scram-sha-256) on 127.0.0.1 only; no Unix socket. `scripts/postgres_server.py` runs one in the
foreground.
"""

from __future__ import annotations

import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.services import LOOPBACK, ManagedProcess, free_port, wait_until

SYSTEM_USER = "postgres"


def find_bindir() -> Path:
    """Directory holding initdb/postgres/pg_ctl: $PG_BINDIR, Debian's newest version, or PATH."""
    if os.environ.get("PG_BINDIR"):
        return Path(os.environ["PG_BINDIR"])
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if debian:
        return Path(debian[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise FileNotFoundError("PostgreSQL binaries not found: install postgresql-15 (`make system-deps`) or set PG_BINDIR")


def _as_db_user(args: list[str]) -> list[str]:
    """Prefix a command so it runs as `postgres` when we are root (initdb refuses root)."""
    return ["runuser", "-u", SYSTEM_USER, "--", *args] if os.geteuid() == 0 else args


@dataclass
class PostgresServer:
    """A running cluster; `url` is an SQLAlchemy URL Optuna accepts as storage."""

    base_dir: Path
    port: int
    password: str
    database: str
    bindir: Path
    process: ManagedProcess | None = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def user(self) -> str:
        return SYSTEM_USER if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name

    @property
    def url(self) -> str:
        return f"postgresql+psycopg2://{self.user}:{self.password}@{LOOPBACK}:{self.port}/{self.database}"

    def _connect(self, database: str):
        import psycopg2

        return psycopg2.connect(
            host=LOOPBACK, port=self.port, user=self.user, password=self.password, dbname=database, connect_timeout=3
        )

    def ready(self) -> bool:
        with self._connect("postgres"):
            return True

    def create_database(self) -> None:
        conn = self._connect("postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (self.database,))
                if cur.fetchone() is None:
                    cur.execute(f'CREATE DATABASE "{self.database}"')
        finally:
            conn.close()

    def stop(self) -> None:
        """Fast shutdown (disconnects clients), then make sure the process group is gone."""
        if self.process is not None and self.process.running():
            subprocess.run(
                _as_db_user([str(self.bindir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", "20"]),
                capture_output=True,
                check=False,
            )
            self.process.stop()


def start_postgres(
    base_dir: Path | None = None, port: int | None = None, database: str = "optuna", timeout: float = 60.0
) -> PostgresServer:
    """initdb (if needed) + start a cluster in base_dir (a fresh temp dir by default) and create `database`."""
    bindir = find_bindir()
    if base_dir is None:
        base_dir = Path(tempfile.mkdtemp(prefix="bp-postgres-"))
    base_dir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SYSTEM_USER)
        os.chown(base_dir, entry.pw_uid, entry.pw_gid)
    password_file = base_dir / "password"
    data_dir = base_dir / "data"
    if not (data_dir / "PG_VERSION").is_file():
        password = secrets.token_urlsafe(18)
        password_file.write_text(password)
        password_file.chmod(0o600)
        if os.geteuid() == 0:
            os.chown(password_file, entry.pw_uid, entry.pw_gid)
        result = subprocess.run(
            _as_db_user([
                str(bindir / "initdb"), "-D", str(data_dir), "--auth-host=scram-sha-256", "--auth-local=reject",
                f"--pwfile={password_file}", "--encoding=UTF8", "--no-instructions",
            ]),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed in {data_dir}:\n{result.stdout}\n{result.stderr}")
    password = password_file.read_text().strip()
    port = port or free_port()
    server = PostgresServer(base_dir=base_dir, port=port, password=password, database=database, bindir=bindir)
    server.process = ManagedProcess(
        name="postgres",
        args=_as_db_user([
            str(bindir / "postgres"), "-D", str(data_dir), "-p", str(port),
            "-c", f"listen_addresses={LOOPBACK}", "-c", "unix_socket_directories=",
        ]),
        log_path=base_dir / "postgres.log",
    ).start()
    try:
        wait_until(server.ready, timeout=timeout, interval=0.5, what=f"PostgreSQL on {LOOPBACK}:{port}")
        server.create_database()
    except Exception as exc:
        tail = server.process.log_tail()
        server.stop()
        raise RuntimeError(f"PostgreSQL did not start: {exc}\n{tail}") from exc
    return server
