#!/usr/bin/env python
"""Soak run: SOAK_MINUTES (params soak.minutes, 30) of mixed traffic at concurrency 8 through the canary
proxy, with faults on a schedule (params soak.faults): worker kill, TorchServe JVM kill (supervised,
it comes back), Redis restart, token renewal, explanation flood, a canary promoted, a canary rolled back.

    make soak                                   # 30 minutes, tiny random model unless MODEL_DIR=...
    make soak SOAK_MINUTES=10 MODEL_DIR=models/intent_classifier
    python scripts/soak.py --minutes 1 --output /tmp/soak.json --plot /tmp/soak.png

Its own supervisord stack (TorchServe, token renewer, Redis, nginx) on free 127.0.0.1 ports in
params soak.work_dir, so a running `make serve` is never touched; everything is stopped at the end,
also on Ctrl-C. Writes bench/soak.json, bench/soak.png and prints the README tables.
A benchmark, not a test. Exit codes: 0 no request lost and every fault recovered, 1 otherwise,
2 bad arguments, 130 interrupted (servers stopped, nothing written).
"""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path

from pipeline import cli
from pipeline.config import PROJECT_ROOT
from pipeline.reliability.soak import default_options, run_soak
from pipeline.reliability.soak_report import markdown


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--minutes", type=float, default=None, help="traffic duration (default: params soak.minutes)")
    parser.add_argument("--model-dir", type=Path, default=None, help="model directory to serve (default: the tiny random test model)")
    parser.add_argument("--output", type=Path, default=None, help="report JSON (default: params soak.output)")
    parser.add_argument("--plot", type=Path, default=None, help="latency PNG (default: params soak.plot)")
    args, params = cli.start(parser, argv)
    if args.minutes is not None and args.minutes <= 0:
        parser.error("--minutes must be positive")
    if args.model_dir is not None and not (args.model_dir / "model.safetensors").is_file():
        parser.error(f"--model-dir {args.model_dir} has no model.safetensors")
    options = default_options(params, args.minutes, args.model_dir)
    options = replace(options, output=args.output or options.output, plot=args.plot or options.plot)
    try:
        report = run_soak(params, options)
    except KeyboardInterrupt:
        print("interrupted: every server of the soak run was stopped; no report written", file=sys.stderr)
        return 130
    options.output.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report, indent=2, default=str).replace(f"{PROJECT_ROOT}/", "")
    options.output.write_text(text + "\n", encoding="utf-8")
    print()
    print(markdown(report))
    print(f"\nserved: {report['served_model']}; load average before {report['machine']['load_average_before']}, "
          f"after {report['machine']['load_average_after']}")
    print(f"report: {options.output}; plot: {report['plot']}")
    if not report["ok"]:
        print(f"NOT OK: {report['totals']['lost']} lost; fault errors: "
              f"{[f['fault'] for f in report['faults'] if 'error' in f]}", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
