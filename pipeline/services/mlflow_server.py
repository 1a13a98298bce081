"""`mlflow server` on loopback with one worker and Host-header checks (DNS-rebinding protection).

The tracking/registry store is the project's SQLite file by default (the same one training
writes), artefacts are proxied by the server to a local directory or to S3 (SeaweedFS) when
`artifacts_destination` is an s3:// URI and MLFLOW_S3_ENDPOINT_URL is set.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from pipeline.services import LOOPBACK, ManagedProcess, free_port, wait_until


def server_args(backend_store_uri: str, artifacts_destination: str, port: int, host: str = LOOPBACK) -> list[str]:
    """The command line: one worker, bound to `host`, only Host headers naming this host:port accepted."""
    allowed = ",".join([f"{host}:{port}", f"localhost:{port}"])
    return [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", backend_store_uri,
        "--artifacts-destination", artifacts_destination,
        "--host", host,
        "--port", str(port),
        "--workers", "1",
        "--allowed-hosts", allowed,
        "--cors-allowed-origins", f"http://{host}:{port},http://localhost:{port}",
    ]


@dataclass
class MlflowServer:
    process: ManagedProcess
    port: int
    host: str = LOOPBACK

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/health", timeout=2) as resp:
            return resp.status == 200

    def stop(self) -> None:
        self.process.stop()


def start_mlflow_server(
    backend_store_uri: str,
    artifacts_destination: str,
    log_path: Path,
    port: int | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> MlflowServer:
    """Start the server and wait until /health answers; the log tail is in the error otherwise."""
    port = port or free_port()
    proc = ManagedProcess("mlflow", server_args(backend_store_uri, artifacts_destination, port), log_path, env=env)
    server = MlflowServer(process=proc.start(), port=port)
    try:
        wait_until(lambda: server.process.running() and server.healthy(), timeout, interval=0.5, what=f"mlflow server on {server.url}")
    except TimeoutError as exc:
        tail = proc.log_tail()
        server.stop()
        raise RuntimeError(f"{exc}\n--- {log_path} ---\n{tail}") from exc
    return server


def store_locations(params: dict) -> tuple[str, str]:
    """(backend store URI, artefact destination) from params: the training store, repo-anchored paths."""
    from pipeline.config import resolve_path

    uri = params["mlflow"]["tracking_uri"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        uri = "sqlite:///" + str(resolve_path(uri[len("sqlite:///"):]))
    dest = str((params.get("registry") or {}).get("server", {}).get("artifacts_destination", "mlartifacts"))
    if "://" not in dest:
        dest = str(resolve_path(dest))
    return uri, dest


def start_from_params(params: dict, log_path: Path, port: int) -> MlflowServer:
    """The server `make mlflow-server` runs: the store_locations of params; s3:// artefacts go to the
    local SeaweedFS (make s3-start) unless MLFLOW_S3_ENDPOINT_URL names another endpoint."""
    backend, artifacts = store_locations(params)
    env = None
    if artifacts.startswith("s3://") and not os.environ.get("MLFLOW_S3_ENDPOINT_URL"):
        from pipeline.services.s3 import client_env

        env = client_env()
    return start_mlflow_server(backend, artifacts, log_path, port=port, env=env)
