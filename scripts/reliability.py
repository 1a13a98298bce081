#!/usr/bin/env python
"""Reliability and security runs on loopback: faults under load, fuzzed bodies, broken artefacts,
training killed and resumed, hardened endpoints. Writes bench/reliability.json and prints the
README "Reliability" table.

    python scripts/reliability.py                                   # everything, tiny random model
    python scripts/reliability.py --scenarios fuzz security --fuzz-n 200
    python scripts/reliability.py --model-dir models/intent_classifier   # serve a trained model

Every server (TorchServe, Redis, MLflow) is started here on free 127.0.0.1 ports in --work-dir
and stopped at the end, whatever happened. Runs are bounded: fixed fuzz count, time-boxed loads.
Exit codes: 0 every target met, 1 a target missed or a scenario failed, 2 bad arguments.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import PROJECT_ROOT
from pipeline.reliability.run import SCENARIOS, run_reliability
from pipeline.reliability.scenarios import markdown_table


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="what to run (default: all)")
    parser.add_argument("--model-dir", type=Path, help="model directory to serve (default: a tiny random model)")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_ROOT / "run" / "reliability", help="scratch dir (emptied first)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "reliability.json", help="figures (JSON)")
    parser.add_argument("--fuzz-n", type=int, default=1000, help="fuzzed bodies to send")
    parser.add_argument("--seed", type=int, default=0, help="fuzz and data seed")
    parser.add_argument("--concurrency", type=int, default=8, help="clients during the fault-under-load scenarios")
    parser.add_argument("--train-rows", type=int, default=240, help="generated rows for the training kill/resume run")
    args, params = cli.start(parser, argv)
    if args.fuzz_n < 1 or args.concurrency < 1 or args.train_rows < 40:
        parser.error("--fuzz-n and --concurrency must be >= 1, --train-rows >= 40")
    if args.model_dir is not None and not args.model_dir.is_dir():
        parser.error(f"--model-dir {args.model_dir} is not a directory")
    report = {
        "command": "python scripts/reliability.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        **run_reliability(params, args.scenarios, args.work_dir, model_dir=args.model_dir, fuzz_n=args.fuzz_n,
                          seed=args.seed, concurrency=args.concurrency, train_rows=args.train_rows),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # paths relative to the repository: the file is committed with the README figures
    text = json.dumps(report, indent=2, default=str).replace(f"{PROJECT_ROOT}/", "")
    args.out.write_text(text + "\n", encoding="utf-8")
    print()
    print(markdown_table(report["results"]))
    for scenario, error in report["errors"].items():
        print(f"\nERROR in {scenario}: {error}")
    print(f"\nFigures: {args.out} ({report['total_s']} s, load average before {report['machine']['load_average_before']})")
    return 0 if not report["errors"] and all(report["targets_met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
