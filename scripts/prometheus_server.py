#!/usr/bin/env python
"""`make prometheus`: Prometheus on 127.0.0.1 with serve_config/prometheus/ (scrape config + alert rules).

    python scripts/prometheus_server.py                # port 9090, scrapes make serve's TorchServe (127.0.0.1:8082)
    python scripts/prometheus_server.py --port 9091 --torchserve 127.0.0.1:18082

Alerts: http://127.0.0.1:9090/alerts. Storage in run/prometheus/data. Ctrl-C stops it.
Exit codes: 0 stopped by Ctrl-C, 1 failed to start (port in use, prometheus missing), 2 bad arguments.
"""

from __future__ import annotations

import sys

from pipeline import cli
from pipeline.services import run_until_interrupted
from pipeline.services.prometheus import PrometheusServer


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__, params=False)
    p.add_argument("--port", type=int, default=9090)
    p.add_argument("--torchserve", default=None, metavar="HOST:PORT",
                   help="TorchServe metrics address (default: the config's, 127.0.0.1:8082)")
    args = p.parse_args(argv)
    cli.setup_logging()
    server = PrometheusServer(port=args.port, targets={"torchserve": [args.torchserve]} if args.torchserve else None)
    try:
        server.start()
    except (FileNotFoundError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Prometheus on {server.url} (alerts: {server.url}/alerts, log {server.process.log_path}); Ctrl-C stops it.")
    run_until_interrupted(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
