#!/usr/bin/env python
"""Start, stop or check the local S3 server (SeaweedFS `weed mini`) that holds the DVC remote.

    python scripts/s3_server.py start            # 127.0.0.1:8333, data in .s3data/, runs in the background
    python scripts/s3_server.py status
    python scripts/s3_server.py stop

Credentials: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, local-dev defaults when unset.
Exit codes: 0 ok (start: running, also when it already was), 1 failed to start / not running, 2 bad arguments.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

from pipeline import cli
from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, port_open, stop_pidfile
from pipeline.services.s3 import DEFAULT_PORT, start_s3_server


@dataclass
class Args:
    action: str
    port: int
    data_dir: Path
    pid_file: Path
    log_file: Path


def parse_args(argv: list[str] | None = None) -> Args:
    parser = cli.parser(__doc__, params=False)
    parser.add_argument("action", choices=["start", "stop", "status"])
    parser.add_argument(
        "--port", type=int, default=int(os.environ.get("S3_PORT", DEFAULT_PORT)), help="S3 port (env S3_PORT)"
    )
    parser.add_argument(
        "--data-dir", type=Path, default=PROJECT_ROOT / ".s3data", help="object data (git-ignored)"
    )
    parser.add_argument("--pid-file", type=Path, default=PROJECT_ROOT / "run" / "s3.pid")
    parser.add_argument("--log-file", type=Path, default=PROJECT_ROOT / "logs" / "s3.log")
    ns = parser.parse_args(argv)
    return Args(ns.action, ns.port, ns.data_dir, ns.pid_file, ns.log_file)


def _running(args: Args) -> bool:
    if not args.pid_file.is_file():
        return False
    try:
        os.kill(int(args.pid_file.read_text().strip()), 0)
    except (ValueError, ProcessLookupError):
        return False
    return port_open(args.port)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.action == "stop":
        print("S3 server stopped" if stop_pidfile(args.pid_file) else "S3 server was not running")
        return 0
    if args.action == "status":
        up = _running(args)
        print(f"S3 server {'running' if up else 'not running'} on http://{LOOPBACK}:{args.port}")
        return 0 if up else 1
    if _running(args):
        print(f"S3 server already running on http://{LOOPBACK}:{args.port}")
        return 0
    try:
        server = start_s3_server(args.data_dir, args.log_file, port=args.port)
    except (RuntimeError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.pid_file.parent.mkdir(parents=True, exist_ok=True)
    args.pid_file.write_text(str(server.process.pid))
    print(f"S3 server on {server.endpoint_url} (buckets: {', '.join(server.buckets)}; log {args.log_file})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
