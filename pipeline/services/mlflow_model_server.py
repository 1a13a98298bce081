"""`mlflow models serve` of a registered pyfunc on loopback: MLflow's own scoring server
(POST /invocations, GET /ping), in the current environment (`--env-manager local`: no install).

`make serve-pyfunc` and the integration test start it through here. The tracking store that
resolves `models:/...` is passed as MLFLOW_TRACKING_URI.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipeline.services import LOOPBACK, ManagedProcess, free_port, wait_until


def serve_args(model_uri: str, port: int, host: str = LOOPBACK, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "mlflow", "models", "serve", "-m", model_uri, "--env-manager", "local",
            "--host", host, "--port", str(port), "--workers", str(workers)]


@dataclass
class ModelServer:
    process: ManagedProcess
    port: int
    host: str = LOOPBACK

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=2) as resp:
                return resp.status == 200
        except OSError:
            return False

    def invoke(self, texts: list[str], timeout: float = 60) -> list[dict]:
        """POST /invocations with the texts as a `text` column; the answers in order."""
        body = json.dumps({"dataframe_records": [{"text": t} for t in texts]}).encode()
        request = urllib.request.Request(f"{self.url}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            return json.loads(resp.read())["predictions"]

    def stop(self) -> None:
        self.process.stop()


def start_model_server(model_uri: str, tracking_uri: str, log_path: Path, port: int | None = None,
                       timeout: float = 180.0) -> ModelServer:
    """Start the scoring server and wait until /ping answers; the log tail is in the error otherwise."""
    port = port or free_port()
    # MLflow execs `uvicorn` by name: the venv's bin first on PATH, as `make` does not activate it
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    proc = ManagedProcess("mlflow-models-serve", serve_args(model_uri, port), log_path,
                          env={"MLFLOW_TRACKING_URI": tracking_uri, "PATH": path})
    server = ModelServer(process=proc.start(), port=port)
    try:
        wait_until(lambda: server.process.running() and server.ready(), timeout, interval=0.5,
                   what=f"mlflow models serve on {server.url}")
    except TimeoutError as exc:
        tail = proc.log_tail()
        server.stop()
        raise RuntimeError(f"{exc}\n--- {log_path} ---\n{tail}") from exc
    return server
