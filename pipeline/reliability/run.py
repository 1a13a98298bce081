"""`make reliability`: the scenarios of pipeline.reliability.scenarios against servers started here.

Every server (TorchServe, Redis, MLflow) runs on free 127.0.0.1 ports in the work directory and is
stopped at the end, whatever happened; one failed scenario is recorded and the others still run.
"""

from __future__ import annotations

import logging
import os
import platform
import shutil
import subprocess
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import PROJECT_ROOT
from pipeline.progress import progress_bar
from pipeline.reliability import scenarios as reliability
from pipeline.reliability.fuzz_bodies import fuzz_bodies
from pipeline.services import free_port
from pipeline.services.torchserve import TorchServe, read_properties

log = logging.getLogger(__name__)

SERVING = ("security", "fuzz", "bad_artifacts", "redis_restart", "worker_kill", "torchserve_restart")
SCENARIOS = (*SERVING, "training_resume")


def build_archives(model_dir: Path, store: Path, params: dict) -> tuple[str, str]:
    """Two versions of the same model (1 and 2): the restart scenario needs a second one."""
    from pipeline.deploy.archive import ArchiveRequest, build_archive

    name = params["serve"]["model_name"]
    first = build_archive(ArchiveRequest(model_dir=model_dir, version="1", model_name=name, model_store=store), params)
    second = build_archive(ArchiveRequest(model_dir=model_dir, version="2", model_name=name, mar_name=f"{name}_v2",
                                          model_store=store), params)
    return first.name, second.name


def run_serving(scenarios: list[str], params: dict, model_dir: Path, work: Path, results: dict, errors: dict, *,
                fuzz_n: int, seed: int, concurrency: int) -> None:
    from pipeline.services.mlflow_server import start_mlflow_server
    from pipeline.services.redis import RedisServer

    name = params["serve"]["model_name"]
    store = work / "store"
    log.info("Building archives of %s ...", model_dir)
    first, second = build_archives(model_dir, store, params)
    redis = RedisServer(port=free_port(), run_dir=work / "redis").start()
    ts = TorchServe(model_store=store, run_dir=work / "torchserve", models={name: first},
                    inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                    grpc_ports=(free_port(), free_port()), env=redis.handler_env())
    mlflow_server = None
    try:
        log.info("Starting TorchServe ...")
        ts.start()
        max_request_size = int(read_properties(ts.config_path())["max_request_size"])
        for scenario in progress_bar([s for s in SERVING if s in scenarios], desc="reliability scenarios", unit="scenario"):
            log.info("-- %s", scenario)
            began = time.monotonic()
            try:
                if scenario == "security":
                    mlflow_server = start_mlflow_server(f"sqlite:///{work / 'mlflow.db'}", str(work / "mlartifacts"),
                                                        work / "mlflow.log")
                    results[scenario] = reliability.security(ts, name, mlflow_server=mlflow_server)
                elif scenario == "fuzz":
                    bodies = fuzz_bodies(fuzz_n, seed, max_request_size, int(params["serve"]["max_text_chars"]))
                    results[scenario] = reliability.fuzz(ts, name, bodies)
                elif scenario == "bad_artifacts":
                    results[scenario] = reliability.bad_artifacts(ts, name, store / first, model_dir, params, work / "bad")
                elif scenario == "redis_restart":
                    results[scenario] = reliability.redis_restart(ts, redis, name, concurrency=concurrency)
                elif scenario == "worker_kill":
                    results[scenario] = reliability.worker_kill(ts, name, concurrency=concurrency)
                else:
                    results[scenario] = reliability.torchserve_restart(ts, name, second)
            except Exception as exc:  # noqa: BLE001 - one failed scenario must not hide the others
                errors[scenario] = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            log.info("   %.1f s", time.monotonic() - began)
    finally:
        if mlflow_server is not None:
            mlflow_server.stop()
        ts.stop()
        redis.stop()


def run_training(params: dict, encoder_dir: Path, work: Path, results: dict, errors: dict, *,
                 train_rows: int, seed: int) -> None:
    from pipeline.datagen.generate import generate_samples

    log.info("-- training_resume")
    began = time.monotonic()
    rows = [{k: r[k] for k in ("text", "intent", "complexity")}
            for r in generate_samples(train_rows, seed, params=params)]
    try:
        params_file = reliability.training_params(params, work / "training", encoder_dir, rows)
        results["training_resume"] = reliability.training_resume(params_file, work / "training")
    except Exception as exc:  # noqa: BLE001
        errors["training_resume"] = f"{type(exc).__name__}: {exc}"
        traceback.print_exc()
    log.info("   %.1f s", time.monotonic() - began)


def git_commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def run_reliability(params: dict, scenarios: list[str], work_dir: Path, *, model_dir: Path | None = None,
                    fuzz_n: int = 1000, seed: int = 0, concurrency: int = 8, train_rows: int = 240) -> dict:
    """Run the scenarios (work_dir emptied first); the report: figures, targets met, errors, machine."""
    work = work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    began = time.monotonic()
    load_before = os.getloadavg()
    tiny = reliability.tiny_model_dir(work / "tiny_model", params, seed=seed)
    served = model_dir.resolve() if model_dir else tiny
    results: dict = {}
    errors: dict = {}
    if any(s in SERVING for s in scenarios):
        run_serving(scenarios, params, served, work, results, errors, fuzz_n=fuzz_n, seed=seed, concurrency=concurrency)
    if "training_resume" in scenarios:
        run_training(params, tiny.with_name(tiny.name + "_encoder"), work, results, errors, train_rows=train_rows, seed=seed)
    verdicts = reliability.verdicts(results)
    return {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "served_model": str(model_dir) if model_dir else "tiny random model (2-layer, 32-wide BERT)",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_before": [round(x, 2) for x in load_before],
                    "load_average_after": [round(x, 2) for x in os.getloadavg()]},
        "total_s": round(time.monotonic() - began, 1),
        "targets_met": {k: ok for k, (ok, _) in verdicts.items()},
        "errors": errors,
        "results": results,
    }
