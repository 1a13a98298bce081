"""Training work in separate processes: HPO workers sharing one study, and killable training runs.

`make hpo` (HPO_WORKERS=2) starts workers on this machine, each one process with its own torch
threads; the reliability run SIGKILLs a training mid-epoch and resumes it. Both run this module,
`python -m pipeline.modeling.workers`, with the task and its keyword arguments as YAML on stdin:
the child gets exactly the parent's resolved params, and a storage password stays out of `ps`.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from typing import IO

import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.modeling import hpo

log = logging.getLogger(__name__)


class WorkersFailed(RuntimeError):
    """An HPO worker process exited with an error (its log says why)."""


def spawn(task: str, kwargs: dict, output: IO, env: dict[str, str] | None = None) -> subprocess.Popen:
    """Start a child running `task` ("train": run_training, "hpo": run_study) with kwargs; stdout+stderr to `output`."""
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.modeling.workers"], stdin=subprocess.PIPE,
                            stdout=output, stderr=subprocess.STDOUT, env=env)
    proc.stdin.write(yaml.safe_dump({"task": task, "kwargs": kwargs}).encode())
    proc.stdin.close()
    return proc


def run_hpo_workers(params: dict, workers: int, *, threads: int | None = None, storage: str | None = None,
                    study_name: str | None = None, log_to_mlflow: bool = True, **options) -> list[int]:
    """Run `workers` processes on one study until it reaches its target; the ids of those that failed.

    The study and its MLflow parent run are created first, so the workers never race to create
    them. Each worker gets `threads` torch threads (default: train.num_threads shared out, at least 1).
    """
    study = hpo.create_study(params, storage, study_name)
    if log_to_mlflow:
        hpo.parent_run_id(study, params, hpo.storage_url(params, storage))
    threads = threads or max(1, int(params["train"].get("num_threads", 1)) // workers)
    log_dir = PROJECT_ROOT / "logs"
    log_dir.mkdir(exist_ok=True)
    procs = []
    for i in range(workers):
        log_file = log_dir / f"hpo_worker{i}.log"
        with log_file.open("w") as fh:
            procs.append(spawn("hpo", {"params": params, "worker_id": i, "threads": threads, "storage": storage,
                                       "study_name": study_name, "log_to_mlflow": log_to_mlflow, **options}, fh))
        log.info("worker %d: pid %d, log %s", i, procs[-1].pid, log_file)
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        raise
    return [i for i, code in enumerate(codes) if code != 0]


def search(params: dict, *, workers: int = 1, worker_id: int = 0, **options) -> dict:
    """Run (or continue) the study, with `workers` processes when > 1; the summary of hpo.run_study.

    After the workers the study has reached its target, so the closing run_study here only writes
    the summary, best params and plots.
    """
    if workers > 1:
        failed = run_hpo_workers(params, workers, **options)
        if failed:
            raise WorkersFailed(f"HPO worker(s) {failed} failed: see {PROJECT_ROOT / 'logs'}/hpo_worker<i>.log")
    return hpo.run_study(params, worker_id=worker_id, **options)


def main() -> int:
    """The child side of spawn()."""
    spec = yaml.safe_load(sys.stdin)
    from pipeline.cli import setup_logging  # also the offline env defaults, before transformers loads

    setup_logging()
    if spec["task"] == "train":
        from pipeline.modeling.train import run_training

        run_training(**spec["kwargs"])
        return 0
    summary = hpo.run_study(**spec["kwargs"])
    print(json.dumps(summary, indent=2))
    return 1 if "error" in summary else 0


if __name__ == "__main__":
    sys.exit(main())
