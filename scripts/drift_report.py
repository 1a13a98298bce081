#!/usr/bin/env python
"""Drift report: newest logged predictions vs the training reference (md + PNG + Prometheus).

    make drift                                   # params defaults
    python scripts/drift_report.py --log prediction_logs --model-dir models/intent_classifier \
        --fail-on-drift                          # exit 3 when drift is detected (cron/CI alert)

Exit codes: 0 report written (drift or not, unless --fail-on-drift), 2 bad input, 3 drift
detected with --fail-on-drift.
"""

from __future__ import annotations

import sys

from pipeline import cli
from pipeline.config import resolve_path

EXIT_BAD_INPUT = 2
EXIT_DRIFT = 3


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--log", default=None, help="prediction log file or directory (default: dir of monitor.prediction_log.path)")
    p.add_argument("--model-dir", default=None, help="model that served the logged traffic (default: paths.model_dir)")
    p.add_argument("--reference-data", default=None, help="JSONL rows of the training distribution (default: monitor.reference_data)")
    p.add_argument("--model-version", default=None, help="compare only this version's records (default: the most logged)")
    p.add_argument("--out-dir", default=None, help="output directory (default: monitor.output_dir)")
    p.add_argument("--rebuild-reference", action="store_true", help="recompute the cached reference predictions")
    p.add_argument("--fail-on-drift", action="store_true", help=f"exit {EXIT_DRIFT} when drift is detected")
    args, params = cli.start(p, argv)
    cfg = params["monitor"]
    log = resolve_path(args.log) if args.log else resolve_path(cfg["prediction_log"]["path"]).parent
    model_dir = resolve_path(args.model_dir or params["paths"]["model_dir"])
    reference = resolve_path(args.reference_data or cfg["reference_data"])
    out_dir = resolve_path(args.out_dir or cfg["output_dir"])
    for what, path in (("prediction log", log), ("model directory", model_dir), ("reference data", reference)):
        if not path.exists():
            print(f"error: {what} not found: {path}", file=sys.stderr)
            return EXIT_BAD_INPUT

    from pipeline.monitoring.drift_report import run_drift_report

    try:
        report = run_drift_report(params, log, model_dir, out_dir, reference_data=reference,
                                  model_version=args.model_version, rebuild_reference=args.rebuild_reference)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if report["status"] == "not_enough_data":
        print(f"not enough data: {report['n_current']} records of model version {report['model_version']} "
              f"in {log} (need {report['min_records']}); no comparison made")
        return 0
    print(f"data drift: {report['data_drift']}  output drift: {report['output_drift']}  "
          f"({report['n_current']} records of version {report['model_version']} vs {report['n_reference']} reference rows)")
    for c in report["numeric"]:
        if c["drift"]:
            print(f"  {c['name']}: PSI {c['psi']:.3f}, KS p {c['ks_pvalue']:.2g}")
    if report["intent"]["drift"]:
        print(f"  predicted intents: JS {report['intent']['js_distance']:.3f}, chi2 p {report['intent']['chi2_pvalue']:.2g}")
    print(f"report: {report['markdown']} (self-contained: {report['html']})\nplot:   {report['png']}\ngauges: {report['prometheus']}")
    return EXIT_DRIFT if args.fail_on_drift and report["drift"] else 0


if __name__ == "__main__":
    sys.exit(main())
