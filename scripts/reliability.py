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

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import PROJECT_ROOT, load_params
from pipeline.reliability import scenarios as reliability
from pipeline.reliability.fuzz_bodies import fuzz_bodies
from pipeline.services import free_port
from pipeline.services.torchserve import TorchServe, read_properties

SERVING = ("security", "fuzz", "bad_artifacts", "redis_restart", "worker_kill", "torchserve_restart")
SCENARIOS = (*SERVING, "training_resume")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=None, help="params file (default: params.yaml)")
    parser.add_argument("--scenarios", nargs="+", choices=SCENARIOS, default=list(SCENARIOS), help="what to run (default: all)")
    parser.add_argument("--model-dir", type=Path, help="model directory to serve (default: a tiny random model)")
    parser.add_argument("--work-dir", type=Path, default=PROJECT_ROOT / "run" / "reliability", help="scratch dir (emptied first)")
    parser.add_argument("--out", type=Path, default=PROJECT_ROOT / "bench" / "reliability.json", help="figures (JSON)")
    parser.add_argument("--fuzz-n", type=int, default=1000, help="fuzzed bodies to send")
    parser.add_argument("--seed", type=int, default=0, help="fuzz and data seed")
    parser.add_argument("--concurrency", type=int, default=8, help="clients during the fault-under-load scenarios")
    parser.add_argument("--train-rows", type=int, default=240, help="generated rows for the training kill/resume run")
    args = parser.parse_args(argv)
    if args.fuzz_n < 1 or args.concurrency < 1 or args.train_rows < 40:
        parser.error("--fuzz-n and --concurrency must be >= 1, --train-rows >= 40")
    if args.model_dir is not None and not args.model_dir.is_dir():
        parser.error(f"--model-dir {args.model_dir} is not a directory")
    return args


def build_archives(model_dir: Path, store: Path, params: dict) -> tuple[str, str]:
    """Two versions of the same model (1 and 2): the restart scenario needs a second one."""
    from pipeline.deploy.archive import ArchiveRequest, build_archive

    name = params["serve"]["model_name"]
    first = build_archive(ArchiveRequest(model_dir=model_dir, version="1", model_name=name, model_store=store), params)
    second = build_archive(ArchiveRequest(model_dir=model_dir, version="2", model_name=name, mar_name=f"{name}_v2",
                                          model_store=store), params)
    return first.name, second.name


def run_serving(args, params: dict, model_dir: Path, work: Path, results: dict, errors: dict) -> None:
    from pipeline.services.mlflow_server import start_mlflow_server
    from pipeline.services.redis import RedisServer

    name = params["serve"]["model_name"]
    store = work / "store"
    print(f"Building archives of {model_dir} ...", flush=True)
    first, second = build_archives(model_dir, store, params)
    redis = RedisServer(port=free_port(), run_dir=work / "redis").start()
    ts = TorchServe(model_store=store, run_dir=work / "torchserve", models={name: first},
                    inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                    grpc_ports=(free_port(), free_port()), env={"INTENT_REDIS_URL": redis.url})
    mlflow_server = None
    try:
        print("Starting TorchServe ...", flush=True)
        ts.start()
        max_request_size = int(read_properties(ts.config_path())["max_request_size"])
        for scenario in [s for s in SERVING if s in args.scenarios]:
            print(f"-- {scenario}", flush=True)
            began = time.monotonic()
            try:
                if scenario == "security":
                    mlflow_server = start_mlflow_server(f"sqlite:///{work / 'mlflow.db'}", str(work / "mlartifacts"),
                                                        work / "mlflow.log")
                    results[scenario] = reliability.security(ts, name, mlflow_server=mlflow_server)
                elif scenario == "fuzz":
                    bodies = fuzz_bodies(args.fuzz_n, args.seed, max_request_size, int(params["serve"]["max_text_chars"]))
                    results[scenario] = reliability.fuzz(ts, name, bodies)
                elif scenario == "bad_artifacts":
                    results[scenario] = reliability.bad_artifacts(ts, name, store / first, model_dir, params, work / "bad")
                elif scenario == "redis_restart":
                    results[scenario] = reliability.redis_restart(ts, redis, name, concurrency=args.concurrency)
                elif scenario == "worker_kill":
                    results[scenario] = reliability.worker_kill(ts, name, concurrency=args.concurrency)
                else:
                    results[scenario] = reliability.torchserve_restart(ts, name, second)
            except Exception as exc:  # noqa: BLE001 - one failed scenario must not hide the others
                errors[scenario] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            print(f"   {time.monotonic() - began:.1f} s", flush=True)
    finally:
        if mlflow_server is not None:
            mlflow_server.stop()
        ts.stop()
        redis.stop()


def run_training(args, params: dict, encoder_dir: Path, work: Path, results: dict, errors: dict) -> None:
    from pipeline.datagen.generate import generate_samples

    print("-- training_resume", flush=True)
    began = time.monotonic()
    rows = [{k: r[k] for k in ("text", "intent", "complexity")}
            for r in generate_samples(args.train_rows, args.seed, params=params)]
    try:
        params_file = reliability.training_params(params, work / "training", encoder_dir, rows)
        results["training_resume"] = reliability.training_resume(params_file, work / "training")
    except Exception as exc:  # noqa: BLE001
        errors["training_resume"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    print(f"   {time.monotonic() - began:.1f} s", flush=True)


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    params = load_params(args.config)
    work = args.work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    began = time.monotonic()
    load_before = os.getloadavg()
    tiny = reliability.tiny_model_dir(work / "tiny_model", params, seed=args.seed)
    model_dir = args.model_dir.resolve() if args.model_dir else tiny
    results: dict = {}
    errors: dict = {}
    if any(s in SERVING for s in args.scenarios):
        run_serving(args, params, model_dir, work, results, errors)
    if "training_resume" in args.scenarios:
        run_training(args, params, tiny.with_name(tiny.name + "_encoder"), work, results, errors)

    verdicts = reliability.verdicts(results)
    report = {
        "command": "python scripts/reliability.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "served_model": str(args.model_dir) if args.model_dir else "tiny random model (2-layer, 32-wide BERT)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "total_s": round(time.monotonic() - began, 1),
        "targets_met": {k: ok for k, (ok, _) in verdicts.items()},
        "errors": errors,
        "results": results,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    # paths relative to the repository: the file is committed with the README figures
    text = json.dumps(report, indent=2, default=str).replace(f"{PROJECT_ROOT}/", "")
    args.out.write_text(text + "\n", encoding="utf-8")
    print()
    print(reliability.markdown_table(results))
    for scenario, error in errors.items():
        print(f"\nERROR in {scenario}: {error}")
    print(f"\nFigures: {args.out} ({report['total_s']} s, load average before {report['machine']['load_average_before']})")
    return 0 if not errors and all(ok for ok, _ in verdicts.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
