"""Start and stop the FastAPI + ONNX Runtime peer (pipeline/deploy/peer_app.py) on a loopback port."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, ManagedProcess, free_port, wait_until

PEER_PATH = "/predict"


@dataclass
class PeerServer:
    """uvicorn with `workers` processes over an unpacked archive (`model_dir`), one ORT thread each."""

    model_dir: Path
    run_dir: Path
    workers: int = 2
    port: int = field(default_factory=free_port)
    process: ManagedProcess | None = field(default=None, init=False)

    def start(self, timeout: float = 120.0) -> PeerServer:
        args = [sys.executable, "-m", "uvicorn", "pipeline.deploy.peer_app:app", "--host", LOOPBACK,
                "--port", str(self.port), "--workers", str(self.workers), "--no-access-log", "--log-level", "warning"]
        env = {"PEER_MODEL_DIR": str(self.model_dir), "PYTHONPATH": str(PROJECT_ROOT), "OMP_NUM_THREADS": "1",
               "TOKENIZERS_PARALLELISM": "false", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        self.process = ManagedProcess("peer", args, self.run_dir / "peer.log", env=env, cwd=PROJECT_ROOT).start()

        def answers() -> bool:
            if not self.process.running():
                raise RuntimeError(f"the peer exited:\n{self.process.log_tail()}")
            try:
                return requests.post(self.url(), json={"text": "hello"}, timeout=5).status_code == 200
            except requests.RequestException:
                return False

        try:
            wait_until(answers, timeout=timeout, interval=0.5, what="the FastAPI peer to answer")
            for _ in range(4 * self.workers):  # every worker process loaded and answering
                requests.post(self.url(), json={"text": "warm up"}, timeout=30)
        except Exception:
            self.stop()
            raise
        return self

    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}{PEER_PATH}"

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
