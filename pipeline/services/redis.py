"""redis-server on loopback for the handler's result cache (`make redis`, integration tests).

No persistence (a cache, not a store), bounded memory with LRU eviction, protected mode on.
The handler treats Redis as optional: when this server is down it serves without cache.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, ManagedProcess, port_open, wait_until

DEFAULT_RUN_DIR = PROJECT_ROOT / "run" / "redis"
PID_FILE = "redis.pid"


@dataclass
class RedisServer:
    port: int = 6379
    run_dir: Path = DEFAULT_RUN_DIR
    maxmemory: str = "256mb"
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    def command(self) -> list[str]:
        """redis-server in the foreground: loopback only, no persistence, LRU within maxmemory."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError("redis-server not found: run `make system-deps` (Debian package redis-server)")
        return [
            binary,
            "--bind", LOOPBACK,
            "--port", str(self.port),
            "--protected-mode", "yes",
            "--save", "",
            "--appendonly", "no",
            "--dir", str(self.run_dir),
            "--maxmemory", self.maxmemory,
            "--maxmemory-policy", "allkeys-lru",
        ]

    def start(self, timeout: float = 15.0) -> RedisServer:
        args = self.command()
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} on {LOOPBACK} is already in use")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.process = ManagedProcess("redis", args, self.run_dir / f"redis-{self.port}.log").start()
        try:
            wait_until(self.ping, timeout=timeout, what=f"redis on port {self.port}")
        except TimeoutError:
            tail = self.process.log_tail()
            self.stop()
            raise RuntimeError(f"redis did not start\n{tail}") from None
        return self

    def ping(self) -> bool:
        import redis

        return bool(redis.Redis(host=LOOPBACK, port=self.port, socket_timeout=1).ping())

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
