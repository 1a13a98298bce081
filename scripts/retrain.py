#!/usr/bin/env python
"""Retrain from new labelled data: validate -> merge (DVC) -> fine-tune from the champion -> gate -> register
[-> archive -> canary rollout].

    make retrain NEW_DATA=monitoring_results/uncertain.csv           # a labelled CSV/JSONL/JSON file
    make retrain NEW_DATA=labelled.csv DEPLOY=1                      # ... and deploy an accepted challenger
    python scripts/retrain.py --new-data labelled.jsonl --champion models/intent_classifier --no-register

Without --deploy the canary commands are printed when the challenger beats the champion on the
frozen test split by the promotion gate's rule. With --deploy an accepted challenger is archived
into the model store of the TorchServe `make serve` started and rolled out through the canary proxy
exactly as `make canary` does (promoted, champion alias moved, or rolled back by the same checks);
a refused challenger deploys nothing.
Exit codes: 0 challenger better (registered; with --deploy: promoted), 1 refused by the gate (not registered, its new
rows quarantined in monitor.retrain.quarantine_file, nothing deployed), 2 bad input, 3 --deploy could not start
(TorchServe not running, another rollout in progress, registry gate decision not accepted), 4 deployed and rolled
back by the canary checks, 128 + signal when stopped during the rollout (traffic on the serving version, rerun
`make canary MAR=...` to resume).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.data.ingest import DataValidationError
from pipeline.monitoring.retrain import new_run_dir, run_retrain, write_report

EXIT_NOT_BETTER = 1
EXIT_BAD_INPUT = 2
EXIT_CANNOT_DEPLOY = 3
EXIT_ROLLED_BACK = 4


def build_parser():
    p = cli.parser(__doc__)
    p.add_argument("--new-data", required=True, help="labelled rows (text, intent[, complexity]) as .csv/.jsonl/.json")
    p.add_argument("--champion", default=None, help="champion model dir or registry alias (default: alias 'champion')")
    p.add_argument("--out-dir", default=None, help="run directory (default: monitor.retrain.output_dir/<time>)")
    p.add_argument("--strict", action="store_true", help="fail on any bad row instead of reporting and skipping it")
    p.add_argument("--no-register", action="store_true", help="do not register the challenger in MLflow")
    p.add_argument("--no-dvc", action="store_true", help="do not `dvc add` the additions file")
    p.add_argument("--no-mlflow", action="store_true", help="do not log the fine-tuning run to MLflow")
    p.add_argument("--deploy", action="store_true",
                   help="accepted challenger: archive it and run the canary rollout against the serving version")
    p.add_argument("--ts-run-dir", type=Path, default=None, help="run dir of the TorchServe `make serve` started (--deploy)")
    p.add_argument("--proxy-prefix", type=Path, default=None, help="prefix dir of the canary nginx (--deploy; default run/nginx)")
    return p


def attach_torchserve(run_dir: Path | None, model: str):
    """The serving TorchServe, checked before minutes of training (it must name a default version)."""
    import requests

    from pipeline.services import torchserve

    ts = torchserve.TorchServe.attach(run_dir or torchserve.DEFAULT_RUN_DIR)
    try:
        serving = ts.default_version(model)
    except requests.RequestException as exc:
        raise RuntimeError(f"TorchServe recorded in {ts.run_dir} does not answer: {exc} (make serve)") from exc
    if serving is None:
        raise RuntimeError(f"{model} is not served: start TorchServe with a version first (make serve)")
    return ts


def deploy(params: dict, report: dict, ts, proxy_prefix: Path | None, out_dir: Path) -> int:
    """The deployment step and its exit code; its outcome is added to the report file."""
    from pipeline.deploy.rollout import RolloutError, RolloutInterrupted, ensure_proxy, signals_raise
    from pipeline.monitoring.retrain_deploy import deploy_challenger

    try:
        with signals_raise():
            outcome = deploy_challenger(params, report, ts, lambda: ensure_proxy(params, ts, proxy_prefix))
    except (KeyboardInterrupt, RolloutInterrupted) as exc:
        report["deploy"] = {"deployed": True, "status": "interrupted", "reason": str(exc) or "SIGINT"}
        write_report(out_dir, report)
        print(f"interrupted ({exc or 'SIGINT'}): traffic is on the serving version; resume with "
              "`make canary MAR=...` or abort with `scripts/rollout.py canary --abort`", file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    except (RolloutError, RuntimeError, FileNotFoundError, ValueError, OSError) as exc:
        report["deploy"] = {"deployed": False, "status": "not_deployed", "reason": f"{type(exc).__name__}: {exc}"}
        write_report(out_dir, report)
        print(f"error: not deployed: {exc}", file=sys.stderr)
        return EXIT_CANNOT_DEPLOY
    report["deploy"] = outcome.as_dict()
    write_report(out_dir, report)
    print(f"deploy: {outcome.status} ({outcome.reason})" + (f"; decisions: {outcome.rollout_log}" if outcome.rollout_log else ""))
    if not outcome.deployed:
        return EXIT_NOT_BETTER if not report["comparison"]["better"] else EXIT_CANNOT_DEPLOY
    return 0 if outcome.status == "promoted" else EXIT_ROLLED_BACK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, params = cli.start(parser, argv)
    if args.deploy and args.no_register:
        parser.error("--deploy needs the registry (the rollout checks the gate decision on the version): drop --no-register")
    ts = None
    if args.deploy:
        try:
            ts = attach_torchserve(args.ts_run_dir, params["serve"]["model_name"])
        except (FileNotFoundError, RuntimeError) as exc:
            print(f"error: cannot deploy: {exc}", file=sys.stderr)
            return EXIT_CANNOT_DEPLOY
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
        gate = report["registry_gate"]
        print(f"registered challenger: version {report['challenger_version']} (alias challenger); registry gate "
              f"{'accepted' if gate['accepted'] else 'REFUSED'}: {gate['reason']}")
    print(f"report: {out_dir / 'retrain_report.json'}")
    if args.deploy:
        return deploy(params, report, ts, args.proxy_prefix, out_dir)
    if not c["better"]:
        print("not better than the champion: no canary")
        return EXIT_NOT_BETTER
    print("better: start the canary with (or rerun with DEPLOY=1)")
    for cmd in report["canary"]["commands"]:
        print(f"  {cmd}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
