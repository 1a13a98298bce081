#!/usr/bin/env python
"""A throwaway PostgreSQL cluster on 127.0.0.1 for Optuna storage shared by HPO workers on many machines.

    python scripts/postgres_server.py                  # fresh cluster in a temp dir, a free port; prints the URL
    python scripts/postgres_server.py --dir /srv/optuna-pg --port 5433

Then on each machine: make hpo STORAGE=<printed URL>. Runs as the `postgres` user when started by
root. Exit codes: 0 stopped by Ctrl-C, 1 failed to start, 2 bad arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import cli
from pipeline.services import run_until_interrupted
from pipeline.services.postgres import start_postgres


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__, params=False)
    parser.add_argument("--dir", type=Path, default=None, help="cluster directory (reused if it holds a cluster)")
    parser.add_argument("--port", type=int, default=None, help="port (default: a free one)")
    parser.add_argument("--database", default="optuna")
    args = parser.parse_args(argv)
    try:
        server = start_postgres(args.dir, args.port, args.database)
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"PostgreSQL running (pid {server.process.pid}); Optuna storage URL:\n{server.url}\nCtrl-C stops it.")
    run_until_interrupted(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
