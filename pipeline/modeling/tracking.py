"""MLflow bookkeeping for a training run: where it is stored, what identifies code and data.

One run per training. The run records the params (flattened `section.key`), per-epoch metrics,
the model directory and params.yaml as artefacts, and tags saying which code (git commit) and
which data (hash of the processed splits, DVC revision from dvc.lock) produced the model.
"""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from pipeline.config import PROJECT_ROOT, resolve_path

# params sections that describe a training run (others, like serve/techniques, are not its inputs)
LOGGED_SECTIONS = ("model", "train", "data", "augment", "generate")
MLFLOW_PARAM_MAX = 6000  # MLflow's limit on a param value's length


def flat_params(params: dict) -> dict[str, str]:
    out = {"seed": str(params.get("seed"))}
    for section in LOGGED_SECTIONS:
        for key, value in (params.get(section) or {}).items():
            out[f"{section}.{key}"] = str(value)[:MLFLOW_PARAM_MAX]
    return out


def git_commit(root: Path = PROJECT_ROOT) -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() if out.returncode == 0 else "unknown"


def data_hash(files: list[Path]) -> str:
    """sha256 over the training inputs (file names + bytes): the same data gives the same hash."""
    digest = hashlib.sha256()
    for f in sorted(files):
        digest.update(f.name.encode())
        with open(f, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def dvc_revision(root: Path = PROJECT_ROOT) -> str | None:
    """sha256 of dvc.lock: it pins the md5 of every stage's outputs, so it names the data revision."""
    lock = root / "dvc.lock"
    return hashlib.sha256(lock.read_bytes()).hexdigest()[:16] if lock.is_file() else None


def setup_mlflow(params: dict):
    """Point MLflow at params' tracking URI and experiment; returns the experiment id."""
    import mlflow

    cfg = params["mlflow"]
    uri = cfg["tracking_uri"]
    if uri.startswith("sqlite:///") and not uri.startswith("sqlite:////"):
        # relative SQLite paths are relative to the repository root, not to the caller's cwd
        uri = "sqlite:///" + str(resolve_path(uri[len("sqlite:///"):]))
    mlflow.set_tracking_uri(uri)
    experiment = mlflow.get_experiment_by_name(cfg["experiment"])
    if experiment is not None:
        return experiment.experiment_id
    return mlflow.create_experiment(cfg["experiment"], artifact_location=cfg.get("artifact_location"))
