"""The KServe model server (serve_config/kserve/kserve_wrapper.py) on loopback in front of a
TorchServe, as the two processes of a KServe TorchServe pod run; integration tests use it.

kserve pins clash with the project's (psutil < 6, pandas), so it runs from its own virtualenv,
built by `make kserve-venv` (serve_config/kserve/requirements.txt), as the pod image has its own.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, ManagedProcess
from pipeline.services.torchserve import wait_until_or_raise

KSERVE_VENV = PROJECT_ROOT / ".venv-kserve"
WRAPPER = PROJECT_ROOT / "serve_config" / "kserve" / "kserve_wrapper.py"


def kserve_python(venv: Path = KSERVE_VENV) -> Path:
    """The kserve venv's python, built (or found current) by `make kserve-venv`."""
    subprocess.run(["make", "-s", "kserve-venv", f"KSERVE_VENV={venv}"], cwd=PROJECT_ROOT, check=True)
    return venv / "bin" / "python"


@dataclass
class KServeModelServer:
    """kserve_wrapper.py reading a TorchServe's effective config.properties (its addresses and models)."""

    python: Path
    torchserve_config: Path
    run_dir: Path
    protocol: str = "v1"
    http_port: int = 8080
    process: ManagedProcess | None = field(default=None, init=False)

    def url(self, path: str = "") -> str:
        return f"http://{LOOPBACK}:{self.http_port}/{path.lstrip('/')}"

    def start(self, timeout: float = 120.0) -> KServeModelServer:
        args = [str(self.python), str(WRAPPER), "--config", str(self.torchserve_config), "--protocol", self.protocol,
                "--http-port", str(self.http_port), "--bind", LOOPBACK]
        self.process = ManagedProcess("kserve", args, self.run_dir / "kserve.log", cwd=self.run_dir)
        self.process.start()

        def ready() -> bool:
            if not self.process.running():
                raise RuntimeError(f"the KServe model server exited with code {self.process.proc.returncode}")
            return requests.get(self.url("v2/health/ready"), timeout=5).status_code == 200

        try:
            wait_until_or_raise(ready, timeout, "the KServe model server to be ready")
        except Exception as exc:
            tail = self.log_tail(40)
            self.stop()
            raise RuntimeError(f"KServe model server did not become ready: {exc}\n--- log tail ---\n{tail}") from exc
        return self

    def log_tail(self, lines: int = 40) -> str:
        return self.process.log_tail(lines) if self.process else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None
