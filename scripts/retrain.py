#!/usr/bin/env python
"""Retrain from new labelled data: validate -> merge (DVC) -> fine-tune from the champion -> gate -> register.

    make retrain NEW_DATA=monitoring_results/uncertain.csv      # a labelled CSV/JSONL/JSON file
    python scripts/retrain.py --new-data labelled.jsonl --champion models/intent_classifier --no-register

The canary is proposed (commands printed) only when the challenger beats the champion on the
frozen test split by the promotion gate's rule.
Exit codes: 0 challenger better (registered, canary proposed), 1 refused by the gate (not registered, its new
rows quarantined in monitor.retrain.quarantine_file), 2 bad input.
"""

from __future__ import annotations

import sys

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.data.ingest import DataValidationError
from pipeline.monitoring.retrain import new_run_dir, run_retrain

EXIT_NOT_BETTER = 1
EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--new-data", required=True, help="labelled rows (text, intent[, complexity]) as .csv/.jsonl/.json")
    p.add_argument("--champion", default=None, help="champion model dir or registry alias (default: alias 'champion')")
    p.add_argument("--out-dir", default=None, help="run directory (default: monitor.retrain.output_dir/<time>)")
    p.add_argument("--strict", action="store_true", help="fail on any bad row instead of reporting and skipping it")
    p.add_argument("--no-register", action="store_true", help="do not register the challenger in MLflow")
    p.add_argument("--no-dvc", action="store_true", help="do not `dvc add` the additions file")
    p.add_argument("--no-mlflow", action="store_true", help="do not log the fine-tuning run to MLflow")
    args, params = cli.start(p, argv)
    out_dir = resolve_path(args.out_dir) if args.out_dir else new_run_dir(params)
    try:
        report = run_retrain(params, resolve_path(args.new_data), out_dir, champion=args.champion,
                             register=not args.no_register, version_data=not args.no_dvc,
                             log_to_mlflow=not args.no_mlflow, strict=args.strict)
    except (DataValidationError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    c = report["comparison"]
    print(f"new rows: {report['added']} added, {report['duplicates']} duplicates, {len(report['conflicts'])} "
          f"conflicting labels, {len(report['rejects'])} rejected; {report['dvc']}")
    print(f"frozen test ({c['champion']['n']} rows): champion weighted F1 {c['champion']['f1_weighted']:.4f}, "
          f"challenger {c['challenger']['f1_weighted']:.4f}: {c['reason']}")
    if report["challenger_version"]:
        print(f"registered challenger: version {report['challenger_version']} (alias challenger)")
    if not c["better"]:
        print("not better than the champion: no canary")
        return EXIT_NOT_BETTER
    print("better: start the canary with")
    for cmd in report["canary"]["commands"]:
        print(f"  {cmd}")
    print(f"report: {out_dir / 'retrain_report.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
