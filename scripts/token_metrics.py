#!/usr/bin/env python
"""Write the TorchServe tokens' expiry as Prometheus gauges for node_exporter's textfile collector.

    python scripts/token_metrics.py                       # run/torchserve/key_file.json -> monitoring_results/torchserve_tokens.prom
    python scripts/token_metrics.py --key-file K --output F

Run it from cron next to `make drift`; the TorchServeTokenExpiringSoon alert reads the gauge.
Exit codes: 0 written, 2 key file missing or unreadable.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.monitoring.token_expiry import write_token_gauges
from pipeline.services.torchserve import DEFAULT_RUN_DIR


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--key-file", type=Path, default=DEFAULT_RUN_DIR / "key_file.json",
                   help="TorchServe's key file (default: run/torchserve/key_file.json, what make serve writes)")
    p.add_argument("--output", type=Path, default=None,
                   help="textfile to write (default: monitor.output_dir/torchserve_tokens.prom)")
    args, params = cli.start(p, argv)
    out = args.output or resolve_path(params["monitor"]["output_dir"]) / "torchserve_tokens.prom"
    try:
        expiry = write_token_gauges(args.key_file, out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for api, seconds in sorted(expiry.items()):
        print(f"{api}: expires {datetime.fromtimestamp(seconds, UTC).isoformat(timespec='seconds')}")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
