"""redis-server on loopback for the handler's result cache (`make redis`, integration tests).

No persistence (a cache, not a store), bounded memory with LRU eviction, protected mode on,
bound to loopback, and a password: generated on first start into `redis.password` (0600) in the
run directory, as TorchServe keeps its tokens in key_file.json in its own. The password reaches
redis-server through a 0600 config file and the handler through the file's path in its
environment (`handler_env`), never through a command line (`ps` shows those to every user).
The handler treats Redis as optional: when this server is down it serves without cache.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from model_src.secret_file import read_or_create_secret
from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, ManagedProcess, port_open, wait_until

DEFAULT_RUN_DIR = PROJECT_ROOT / "run" / "redis"
PID_FILE = "redis.pid"
PASSWORD_FILE = "redis.password"


@dataclass
class RedisServer:
    port: int = 6379
    run_dir: Path = DEFAULT_RUN_DIR
    maxmemory: str = "256mb"
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def password_file(self) -> Path:
        return self.run_dir / PASSWORD_FILE

    def handler_env(self) -> dict[str, str]:
        """What a TorchServe worker's handler needs to use this cache (its environment)."""
        return {"INTENT_REDIS_URL": self.url, "INTENT_REDIS_PASSWORD_FILE": str(self.password_file.resolve())}

    def client(self, timeout: float = 1.0):
        """An authenticated redis-py client."""
        import redis

        return redis.Redis(host=LOOPBACK, port=self.port, password=read_or_create_secret(self.password_file),
                           socket_timeout=timeout)

    def write_config(self) -> Path:
        """redis.conf (0600: it holds the password) with this server's settings."""
        settings = {
            "bind": LOOPBACK,
            "port": str(self.port),
            "protected-mode": "yes",
            "save": '""',
            "appendonly": "no",
            "dir": str(self.run_dir.resolve()),
            "maxmemory": self.maxmemory,
            "maxmemory-policy": "allkeys-lru",
            "requirepass": read_or_create_secret(self.password_file),
        }
        path = self.run_dir / f"redis-{self.port}.conf"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("".join(f"{key} {value}\n" for key, value in settings.items()))
        return path

    def command(self) -> list[str]:
        """redis-server in the foreground with this server's config file (supervisord runs the same)."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server not found: run `make system-deps` (Debian package redis-server)")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        return [binary, str(self.write_config())]

    def start(self, timeout: float = 15.0) -> RedisServer:
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} on {LOOPBACK} is already in use")
        args = self.command()
        self.process = ManagedProcess("redis", args, self.run_dir / f"redis-{self.port}.log").start()
        try:
            wait_until(self.ping, timeout=timeout, what=f"redis on port {self.port}")
        except TimeoutError:
            tail = self.process.log_tail()
            self.stop()
            raise RuntimeError(f"redis did not start\n{tail}") from None
        return self

    def ping(self) -> bool:
        return bool(self.client().ping())

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
