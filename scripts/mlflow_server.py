#!/usr/bin/env python
"""`make mlflow-server`: MLflow tracking + registry server on 127.0.0.1, one worker, Host-header checks.

    python scripts/mlflow_server.py                # port params registry.server.port (5000), Ctrl-C stops
    python scripts/mlflow_server.py --port 5055

Exit codes: 0 stopped by Ctrl-C, 1 failed to start (port in use, server error), 2 bad arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, port_open, run_until_interrupted
from pipeline.services.mlflow_server import start_from_params, store_locations


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--port", type=int, default=None, help="default: params registry.server.port")
    parser.add_argument("--log-file", type=Path, default=PROJECT_ROOT / "logs" / "mlflow-server.log")
    args, params = cli.start(parser, argv)
    port = args.port or int(params["registry"]["server"]["port"])
    if port_open(port):
        print(f"error: port {port} on {LOOPBACK} is in use (a server already running?); pass --port", file=sys.stderr)
        return 1
    try:
        server = start_from_params(params, args.log_file, port)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    backend, artifacts = store_locations(params)
    print(f"MLflow server on {server.url} (store {backend}, artefacts {artifacts}, log {args.log_file}); Ctrl-C stops it.\n"
          f"Clients: set mlflow.tracking_uri: {server.url} in params.yaml")
    run_until_interrupted(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
