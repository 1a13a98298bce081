"""MLflow model registry for `intent_classifier`: register, promote, resolve aliases.

A version is the model as an MLflow pyfunc (pipeline/deploy/pyfunc_package.py), logged as
artefacts of a "register" run and registered with `MlflowClient().create_model_version`, so
`mlflow.pyfunc.load_model("models:/intent_classifier@champion")` and `mlflow models serve` work.
The plain model directory (safetensors + config + tokenizer + calibration + ONNX int8) sits inside
it, at `artifacts/model_dir/`: `download_version` returns that directory and `make archive` packs
it, so one stored copy serves both. Stages are deprecated, so aliases carry the lifecycle:
`champion` (what `make archive` packs and serving runs), `challenger` (newly registered, the canary
candidate), `previous_champion` (rollback target).

`promote` runs the promotion gate ("deploy if improved", pipeline.evaluation.gate) for a version
against the champion and moves the aliases when the gate accepts it.

Names used by other parts (keep stable): register_model, judge, promote, set_alias, resolve_alias,
resolve_model_path, download_version.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.config import load_params, resolve_path

if TYPE_CHECKING:
    from pipeline.evaluation.gate import PredictProba, PromotionDecision

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"
# every model directory written by training has these (see model_src/intent_classifier_model.py)
REQUIRED_FILES = ("model.safetensors", "model_config.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spm.model")
COMPLETE_MARKER = ".download_complete"
PYFUNC_MODEL_DIR = "artifacts/model_dir"  # where a version's pyfunc holds the model directory
RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
MODELS_URI_RE = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")


@dataclass
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    source: str
    aliases: list[str] = field(default_factory=list)


# -----------------------------------------------------------------------------
# MLflow plumbing


def _client(params: dict):
    """An MlflowClient on params' tracking store (relative SQLite path resolved from the repo root)."""
    from mlflow import MlflowClient

    from pipeline.modeling.tracking import setup_mlflow

    setup_mlflow(params)
    return MlflowClient()


def _model_name(params: dict) -> str:
    return params["mlflow"]["registered_model"]


def _registry_cfg(params: dict) -> dict:
    return params.get("registry") or {}


def _ensure_registered_model(client, name: str) -> None:
    from mlflow.exceptions import MlflowException

    try:
        client.get_registered_model(name)
    except MlflowException:
        client.create_registered_model(
            name, description="Prompt intent + complexity classifier (model directory)."
        )


def _alias_version(client, name: str, alias: str) -> str | None:
    from mlflow.exceptions import MlflowException

    try:
        return str(client.get_model_version_by_alias(name, alias).version)
    except MlflowException:
        return None


def set_alias(alias: str, version: str | int, params: dict | None = None) -> None:
    """Point `alias` at `version` (the canary's promote step uses this after a successful rollout)."""
    params = params or load_params()
    client = _client(params)
    client.set_registered_model_alias(_model_name(params), alias, str(version))


def delete_alias(alias: str, params: dict | None = None) -> None:
    params = params or load_params()
    client = _client(params)
    if _alias_version(client, _model_name(params), alias) is not None:
        client.delete_registered_model_alias(_model_name(params), alias)


# -----------------------------------------------------------------------------
# registration


def check_model_dir(model_dir: Path, params: dict) -> dict:
    """Refuse a directory that serving could not load; returns its model_config.json."""
    if not model_dir.is_dir():
        raise FileNotFoundError(f"model directory not found: {model_dir}")
    for name in REQUIRED_FILES:
        if not (model_dir / name).is_file():
            raise FileNotFoundError(
                f"{model_dir / name} is missing: not a model directory written by training"
            )
    if not any((model_dir / name).is_file() for name in TOKENIZER_FILES):
        raise FileNotFoundError(f"{model_dir}: no tokenizer file (one of {', '.join(TOKENIZER_FILES)})")
    config_path = model_dir / "model_config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{config_path}: not valid JSON ({exc.msg}, line {exc.lineno})") from exc
    intents = config.get("intents") if isinstance(config, dict) else None
    if not isinstance(intents, list) or not intents:
        raise ValueError(f"{config_path}: field 'intents' must be a non-empty list")
    unknown = [i for i in intents if i not in params["intents"]]
    if unknown:
        raise ValueError(f"{config_path}: intents {unknown} are not in params.yaml 'intents'")
    return config


def _numeric_metrics(metrics: dict, prefix: str = "") -> dict[str, float]:
    """Flatten nested numeric metrics ({'test': {'f1_weighted': 0.9}} -> {'test.f1_weighted': 0.9})."""
    out: dict[str, float] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and np.isfinite(value):
            out[name] = float(value)
        elif isinstance(value, dict):
            out.update(_numeric_metrics(value, f"{name}."))
    return out


def _mlflow_key(name: str) -> str:
    return re.sub(r"[^\w\-. /]", "_", name)[:250]


def _version_tags(metrics: dict[str, float], extra: dict[str, str]) -> dict[str, str]:
    # headline metrics as tags, so `models:/...` lookups show them without opening the run
    headline = {k: v for k, v in metrics.items() if re.search(r"(f1|accuracy)", k) and "per_class" not in k}
    tags = {f"metric.{_mlflow_key(k)}": f"{v:.6f}" for k, v in sorted(headline.items())[:40]}
    tags.update(extra)
    return tags


def _training_run(client, model_dir: Path) -> Any | None:
    """The MLflow run that trained this directory, if training_metrics.json names one we can see."""
    from mlflow.exceptions import MlflowException

    metrics_file = model_dir / "training_metrics.json"
    if not metrics_file.is_file():
        return None
    try:
        run_id = json.loads(metrics_file.read_text(encoding="utf-8")).get("run_id")
    except (json.JSONDecodeError, AttributeError):
        return None
    if not run_id:
        return None
    try:
        return client.get_run(run_id)
    except MlflowException:
        return None


def _provenance(params: dict, training_run) -> dict[str, str]:
    """git commit + data revision: from the training run when known, else measured now."""
    from pipeline.modeling.tracking import data_hash, dvc_revision, git_commit

    tags = dict(training_run.data.tags) if training_run is not None else {}
    out = {}
    for key in ("git_commit", "data_hash", "dvc_revision"):
        if tags.get(key):
            out[key] = tags[key]
    if "git_commit" not in out:
        out["git_commit"] = git_commit()
    if "data_hash" not in out:
        processed = resolve_path(params["paths"]["processed_dir"])
        files = sorted(processed.glob("*.jsonl"))
        out["data_hash"] = data_hash(files) if files else "unknown"
    if "dvc_revision" not in out:
        out["dvc_revision"] = dvc_revision() or "none"
    out["provenance"] = "training_run" if training_run is not None else "measured_at_registration"
    return out


def register_model(
    source: str | Path,
    params: dict | None = None,
    *,
    artifact_path: str | None = None,
    alias: str | None = CHALLENGER,
    description: str | None = None,
) -> RegisteredVersion:
    """Register a model directory (local path) or an MLflow run's logged model directory (run id).

    The directory is saved as the MLflow pyfunc (pipeline.deploy.pyfunc_package: the directory
    inside, with its ONNX export) and logged as artefacts of a new "register" run in params'
    experiment (so it lands on the experiment's artefact store, local or S3) with its training
    metrics; a run id's model directory is downloaded first and the run named as the training run.
    The version is tagged with headline metrics, git commit and data revision, and gets `alias`
    (challenger by default). Returns the new version.
    """
    params = params or load_params()
    artifact_path = artifact_path or _registry_cfg(params).get("artifact_path", "model")
    client = _client(params)
    source_str = str(source)
    local = Path(source_str)
    with tempfile.TemporaryDirectory(prefix="register-") as tmp:
        if local.is_dir():
            model_dir = local.resolve()
            training_run = _training_run(client, model_dir)
            metrics_file = model_dir / "training_metrics.json"
            metrics = (
                _numeric_metrics(json.loads(metrics_file.read_text(encoding="utf-8")))
                if metrics_file.is_file()
                else {}
            )
        elif RUN_ID_RE.match(source_str) or source_str.startswith("runs:/"):
            run_id = source_str.removeprefix("runs:/").split("/")[0]
            training_run = client.get_run(run_id)
            if not client.list_artifacts(run_id, artifact_path):
                raise FileNotFoundError(
                    f"run {run_id} has no artefacts under '{artifact_path}' (no model directory logged)"
                )
            model_dir = Path(client.download_artifacts(run_id, artifact_path, tmp))
            metrics = dict(training_run.data.metrics)
        else:
            raise FileNotFoundError(f"{source_str!r} is neither a model directory nor an MLflow run id")
        check_model_dir(model_dir, params)
        return _log_and_register(model_dir, params, client, training_run, metrics, source_str,
                                 artifact_path=artifact_path, alias=alias, description=description)


def _log_and_register(model_dir: Path, params: dict, client, training_run, metrics: dict[str, float],
                      source_str: str, *, artifact_path: str, alias: str | None,
                      description: str | None) -> RegisteredVersion:
    """Log model_dir's pyfunc in a new register run, create the version from it, set `alias`."""
    import mlflow

    from pipeline.deploy.pyfunc_package import save_pyfunc

    name = _model_name(params)
    provenance = _provenance(params, training_run)
    experiment_id = client.get_experiment_by_name(params["mlflow"]["experiment"]).experiment_id
    with tempfile.TemporaryDirectory(prefix="pyfunc-") as tmp:
        pyfunc_dir = save_pyfunc(model_dir, Path(tmp) / "pyfunc", params)
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"register {model_dir.name}") as run:
            mlflow.set_tags({**provenance, "purpose": "registration", "source_model_dir": str(model_dir)})
            if training_run is not None:
                mlflow.set_tag("training_run_id", training_run.info.run_id)
            if metrics:
                mlflow.log_metrics({_mlflow_key(k): v for k, v in metrics.items()})
            mlflow.log_artifacts(str(pyfunc_dir), artifact_path)
    run_id = run.info.run_id
    artifact_uri = f"{run.info.artifact_uri}/{artifact_path}"
    _ensure_registered_model(client, name)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    tags = _version_tags(metrics, {**provenance, "registered_at": now, "source": source_str})
    mv = client.create_model_version(
        name, source=artifact_uri, run_id=run_id, tags=tags, description=description
    )
    version = str(mv.version)
    aliases = []
    if alias:
        client.set_registered_model_alias(name, alias, version)
        aliases.append(alias)
    log.info("registered %s version %s from %s (run %s)", name, version, source_str, run_id)
    return RegisteredVersion(name=name, version=version, run_id=run_id, source=artifact_uri, aliases=aliases)


# -----------------------------------------------------------------------------
# resolving versions to local directories


def download_version(version: str | int, params: dict | None = None, dst_dir: Path | None = None) -> Path:
    """The version's model directory on local disk (downloaded once into the cache, then reused).

    A version is a pyfunc whose `artifacts/model_dir/` is the model directory; versions registered
    before the pyfunc are the bare directory, which is returned as it is."""
    import mlflow

    params = params or load_params()
    _client(params)
    name = _model_name(params)
    cache = _registry_cfg(params).get("cache_dir", "models/registry")
    dst = Path(dst_dir) if dst_dir is not None else resolve_path(cache) / name / f"v{version}"
    if (dst / COMPLETE_MARKER).is_file():
        return _model_dir_of(dst)
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=str(dst))
    model_dir = _model_dir_of(dst)
    missing = [f for f in REQUIRED_FILES if not (model_dir / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{name} version {version} artefacts lack {missing}: registered from a broken directory?"
        )
    (dst / COMPLETE_MARKER).write_text(datetime.now(UTC).isoformat())
    return model_dir


def _model_dir_of(downloaded: Path) -> Path:
    return downloaded / PYFUNC_MODEL_DIR if (downloaded / "MLmodel").is_file() else downloaded


def resolve_alias(alias: str, params: dict | None = None, dst_dir: Path | None = None) -> tuple[str, Path]:
    """(version, local model directory) of `models:/intent_classifier@alias`; KeyError if unset."""
    params = params or load_params()
    client = _client(params)
    version = _alias_version(client, _model_name(params), alias)
    if version is None:
        raise KeyError(
            f"registered model {_model_name(params)!r} has no alias {alias!r}: run `make register` first"
        )
    return version, download_version(version, params, dst_dir)


def resolve_model_path(uri_or_path: str | Path, params: dict | None = None) -> Path:
    """A local model directory for a path, `models:/name@alias` or `models:/name/version`."""
    text = str(uri_or_path)
    match = MODELS_URI_RE.match(text)
    if match is None:
        if text.startswith("models:/"):
            raise ValueError(f"{text!r}: expected models:/<name>@<alias> or models:/<name>/<version>")
        path = Path(text)
        if not path.is_dir():
            raise FileNotFoundError(f"model directory not found: {path}")
        return path
    params = params or load_params()
    if match["name"] != _model_name(params):
        raise ValueError(f"{text!r}: this project's registered model is {_model_name(params)!r}")
    if match["alias"]:
        return resolve_alias(match["alias"], params)[1]
    return download_version(match["version"], params)


# -----------------------------------------------------------------------------
# promotion


def judge(
    candidate: str | int = CHALLENGER,
    params: dict | None = None,
    *,
    predict_proba: PredictProba | None = None,
    dry_run: bool = False,
) -> PromotionDecision:
    """Run the promotion gate for a version (number or alias) against the champion and record the
    decision on it (tags, promotion log, MLflow run) without moving any alias.

    The retraining loop uses it for the challenger it registers: the decision is what a rollout
    checks (pipeline.deploy.rollout.GateCheck), and the champion alias moves only once the
    canary promotes (pipeline.deploy.rollout.move_champion_alias).
    """
    from pipeline.evaluation.gate import evaluate_gate  # loads torch, sklearn and matplotlib: only to judge

    params = params or load_params()
    client = _client(params)
    name = _model_name(params)
    version = str(candidate) if str(candidate).isdigit() else _alias_version(client, name, str(candidate))
    if version is None:
        raise KeyError(f"registered model {name!r} has no alias {candidate!r}")
    return evaluate_gate(
        client, name, version, _alias_version(client, name, CHAMPION), params,
        model_dir=lambda v: download_version(v, params), predict_proba=predict_proba, dry_run=dry_run,
    )


def promote(
    candidate: str | int = CHALLENGER,
    params: dict | None = None,
    *,
    predict_proba: PredictProba | None = None,
    dry_run: bool = False,
) -> PromotionDecision:
    """Gate a version (number or alias) against the champion; if accepted (and not a dry run) it becomes champion.

    The gate's decision is recorded whatever it is (pipeline.evaluation.gate.evaluate_gate). The
    old champion keeps the `previous_champion` alias (rollback target); the candidate loses
    `challenger` and gets a `champion_since` tag (promotion history).
    """
    params = params or load_params()
    client = _client(params)
    name = _model_name(params)
    decision = judge(candidate, params, predict_proba=predict_proba, dry_run=dry_run)
    if decision.accepted and not dry_run:
        if decision.champion_version is not None:
            client.set_registered_model_alias(name, PREVIOUS_CHAMPION, decision.champion_version)
            client.set_model_version_tag(name, decision.champion_version, "champion_until", decision.time)
        client.set_registered_model_alias(name, CHAMPION, decision.candidate_version)
        client.set_model_version_tag(name, decision.candidate_version, "champion_since", decision.time)
        if _alias_version(client, name, CHALLENGER) == decision.candidate_version:
            client.delete_registered_model_alias(name, CHALLENGER)
    return decision
