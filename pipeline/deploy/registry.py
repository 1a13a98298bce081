"""MLflow model registry for `intent_classifier`: register, gate, promote, resolve aliases.

A version's artefacts are the model DIRECTORY (safetensors + config + tokenizer + params), logged
as plain run artefacts and registered with `MlflowClient().create_model_version`: MLflow 3's
`log_model` would trace a pt2 program we do not want. Stages are deprecated, so aliases carry the
lifecycle: `champion` (what `make archive` packs and serving runs), `challenger` (newly
registered, the canary candidate), `previous_champion` (rollback target).

Promotion gate ("deploy if improved"): the candidate replaces the champion only if, on the frozen
test split, its weighted F1 beats the champion's by `registry.promotion_margin` and no intent's F1
drops by more than `registry.max_intent_f1_drop`. The first version becomes champion. Every
decision is written as tags on the candidate version, a JSON line in the promotion log and an
MLflow run holding the figures (per-intent F1 bars).

Names used by other parts (keep stable): register_model, promote, evaluate_gate, set_alias,
resolve_alias, resolve_model_path, download_version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import load_params, resolve_path

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"
PREVIOUS_CHAMPION = "previous_champion"
# every model directory written by training has these (see model_src/intent_classifier_model.py)
REQUIRED_FILES = ("model.safetensors", "model_config.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spm.model")
COMPLETE_MARKER = ".download_complete"
RUN_ID_RE = re.compile(r"^[0-9a-f]{32}$")
MODELS_URI_RE = re.compile(r"^models:/(?P<name>[^/@]+)(?:@(?P<alias>[\w-]+)|/(?P<version>\d+))$")

# (model_dir, texts) -> probabilities (N, C) in the model's own intent order
PredictProba = Callable[[Path, list[str]], np.ndarray]


@dataclass
class RegisteredVersion:
    name: str
    version: str
    run_id: str
    source: str
    aliases: list[str] = field(default_factory=list)


@dataclass
class PromotionDecision:
    """Everything the gate looked at; written to the promotion log as one JSON line."""

    time: str
    model: str
    candidate_version: str
    champion_version: str | None
    accepted: bool
    reason: str
    margin: float
    max_intent_f1_drop: float
    test_file: str
    test_sha256: str
    test_rows: int
    candidate_f1_weighted: float | None = None
    champion_f1_weighted: float | None = None
    candidate_accuracy: float | None = None
    champion_accuracy: float | None = None
    intent_f1_drops: dict[str, float] = field(default_factory=dict)
    figure: str | None = None
    mlflow_run_id: str | None = None
    dry_run: bool = False


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

    A local directory is logged as artefacts of a new "register" run in params' experiment (so
    it lands on the experiment's artefact store, local or S3) with its training metrics; a run id
    reuses that run's artefacts. The version is tagged with headline metrics, git commit and data
    revision, and gets `alias` (challenger by default). Returns the new version.
    """
    import mlflow

    params = params or load_params()
    artifact_path = artifact_path or _registry_cfg(params).get("artifact_path", "model")
    client = _client(params)
    name = _model_name(params)
    source_str = str(source)
    local = Path(source_str)

    if local.is_dir():
        model_dir = local.resolve()
        check_model_dir(model_dir, params)
        training_run = _training_run(client, model_dir)
        metrics_file = model_dir / "training_metrics.json"
        metrics = (
            _numeric_metrics(json.loads(metrics_file.read_text(encoding="utf-8")))
            if metrics_file.is_file()
            else {}
        )
        provenance = _provenance(params, training_run)
        experiment_id = client.get_experiment_by_name(params["mlflow"]["experiment"]).experiment_id
        with mlflow.start_run(experiment_id=experiment_id, run_name=f"register {model_dir.name}") as run:
            mlflow.set_tags({**provenance, "purpose": "registration", "source_model_dir": str(model_dir)})
            if training_run is not None:
                mlflow.set_tag("training_run_id", training_run.info.run_id)
            if metrics:
                mlflow.log_metrics({_mlflow_key(k): v for k, v in metrics.items()})
            mlflow.log_artifacts(str(model_dir), artifact_path)
        run_id = run.info.run_id
        artifact_uri = f"{run.info.artifact_uri}/{artifact_path}"
    elif RUN_ID_RE.match(source_str) or source_str.startswith("runs:/"):
        run_id = source_str.removeprefix("runs:/").split("/")[0]
        run = client.get_run(run_id)
        if not client.list_artifacts(run_id, artifact_path):
            raise FileNotFoundError(
                f"run {run_id} has no artefacts under '{artifact_path}' (no model directory logged)"
            )
        with tempfile.TemporaryDirectory() as tmp:
            # validate what we register exactly as a local directory would be validated
            cfg = client.download_artifacts(run_id, f"{artifact_path}/model_config.json", tmp)
            check_model_dir_config(Path(cfg), params)
        metrics = dict(run.data.metrics)
        provenance = _provenance(params, run)
        artifact_uri = f"{run.info.artifact_uri}/{artifact_path}"
    else:
        raise FileNotFoundError(f"{source_str!r} is neither a model directory nor an MLflow run id")

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


def check_model_dir_config(config_path: Path, params: dict) -> None:
    """The model_config.json part of check_model_dir, for artefacts not yet on local disk."""
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{config_path}: not valid JSON ({exc.msg})") from exc
    unknown = [i for i in config.get("intents") or [] if i not in params["intents"]]
    if not config.get("intents") or unknown:
        raise ValueError(f"{config_path}: 'intents' missing or not in params.yaml ({unknown})")


# -----------------------------------------------------------------------------
# resolving versions to local directories


def download_version(version: str | int, params: dict | None = None, dst_dir: Path | None = None) -> Path:
    """The version's model directory on local disk (downloaded once into the cache, then reused)."""
    import mlflow

    params = params or load_params()
    _client(params)
    name = _model_name(params)
    cache = _registry_cfg(params).get("cache_dir", "models/registry")
    dst = Path(dst_dir) if dst_dir is not None else resolve_path(cache) / name / f"v{version}"
    if (dst / COMPLETE_MARKER).is_file():
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{name}/{version}", dst_path=str(dst))
    missing = [f for f in REQUIRED_FILES if not (dst / f).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{name} version {version} artefacts lack {missing}: registered from a broken directory?"
        )
    (dst / COMPLETE_MARKER).write_text(datetime.now(UTC).isoformat())
    return dst


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
# promotion gate


def frozen_test_path(params: dict) -> Path:
    configured = _registry_cfg(params).get("test_file")
    if configured:
        return resolve_path(configured)
    return resolve_path(params["paths"]["processed_dir"]) / "test.jsonl"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _predict_proba(model_dir: Path, texts: list[str]) -> np.ndarray:
    from pipeline.modeling.predict import Predictor

    return Predictor(model_dir).predict_proba(texts)[0]


def _probs_in_params_order(model_dir: Path, probs: np.ndarray, intents: list[str]) -> np.ndarray:
    """Columns reordered to params' intent order; an intent the model lacks gets probability 0."""
    model_intents = json.loads((model_dir / "model_config.json").read_text(encoding="utf-8"))["intents"]
    if probs.shape[1] != len(model_intents):
        raise ValueError(
            f"{model_dir}: {probs.shape[1]} probability columns for {len(model_intents)} intents"
        )
    out = np.zeros((probs.shape[0], len(intents)))
    for j, intent in enumerate(model_intents):
        out[:, intents.index(intent)] = probs[:, j]
    return out


def score_on_test(
    model_dir: Path, rows: list[dict], params: dict, predict_proba: PredictProba | None = None
) -> dict:
    """classification_metrics of the model on the test rows (weighted F1, per-intent F1 ...)."""
    from pipeline.evaluation.metrics import classification_metrics

    intents = list(params["intents"])
    probs = (predict_proba or _predict_proba)(model_dir, [r["text"] for r in rows])
    probs = _probs_in_params_order(model_dir, np.asarray(probs, dtype=float), intents)
    y_true = np.array([intents.index(r["intent"]) for r in rows])
    return classification_metrics(y_true, probs, intents, ece_bins=params["eval"]["ece_bins"], top_k=1)


def gate(
    candidate: dict, champion: dict, intents: list[str], margin: float, max_drop: float
) -> tuple[bool, str, dict]:
    """The promotion rule on two classification_metrics dicts: (accepted, reason, per-intent drops)."""
    drops = {
        intent: round(champion["per_class"][intent]["f1"] - candidate["per_class"][intent]["f1"], 6)
        for intent in intents
        if champion["per_class"][intent]["support"] > 0
    }
    gain = candidate["f1_weighted"] - champion["f1_weighted"]
    worst = max(drops, key=drops.get) if drops else None
    if gain < margin:
        return False, f"weighted F1 gain {gain:+.4f} is below the margin {margin:.4f}", drops
    if worst is not None and drops[worst] > max_drop:
        return False, f"F1 of '{worst}' drops by {drops[worst]:.4f} (> {max_drop:.4f} allowed)", drops
    return (
        True,
        f"weighted F1 gain {gain:+.4f} >= margin {margin:.4f}; worst intent drop {drops.get(worst, 0.0):.4f}",
        drops,
    )


def _comparison_figure(
    candidate: dict, champion: dict | None, labels: dict[str, str], intents: list[str], path: Path
) -> Path:
    from pipeline.evaluation.plots import per_class_f1_plot

    sets = {labels["candidate"]: candidate["per_class"]}
    if champion is not None:
        sets = {labels["champion"]: champion["per_class"], **sets}
    return per_class_f1_plot(sets, intents, path)


def _read_test_rows(path: Path, params: dict) -> list[dict]:
    from pipeline.modeling.train_data import read_jsonl_split

    return read_jsonl_split(
        path, list(params["intents"]), list(params["complexity_levels"]), need_score=False
    )


def evaluate_gate(
    candidate: str | int = CHALLENGER,
    params: dict | None = None,
    *,
    predict_proba: PredictProba | None = None,
    dry_run: bool = False,
) -> PromotionDecision:
    """Run the gate for a version (number or alias) against the champion and record the decision.

    Does not move aliases (see `promote`); the canary uses this before sending traffic.
    """
    import mlflow

    params = params or load_params()
    client = _client(params)
    name = _model_name(params)
    cfg = _registry_cfg(params)
    version = str(candidate) if str(candidate).isdigit() else _alias_version(client, name, str(candidate))
    if version is None:
        raise KeyError(f"registered model {name!r} has no alias {candidate!r}")
    champion_version = _alias_version(client, name, CHAMPION)
    test_file = frozen_test_path(params)
    if not test_file.is_file():
        raise FileNotFoundError(f"frozen test split {test_file} not found: run `make data` first")
    rows = _read_test_rows(test_file, params)
    intents = list(params["intents"])
    decision = PromotionDecision(
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        model=name,
        candidate_version=version,
        champion_version=champion_version,
        accepted=False,
        reason="",
        margin=float(cfg["promotion_margin"]),
        max_intent_f1_drop=float(cfg["max_intent_f1_drop"]),
        test_file=str(test_file),
        test_sha256=_sha256(test_file),
        test_rows=len(rows),
        dry_run=dry_run,
    )
    cand_metrics = score_on_test(download_version(version, params), rows, params, predict_proba)
    decision.candidate_f1_weighted = cand_metrics["f1_weighted"]
    decision.candidate_accuracy = cand_metrics["accuracy"]
    champ_metrics = None
    if champion_version is None:
        decision.accepted, decision.reason = True, "no champion yet: the first model becomes champion"
    elif champion_version == version:
        decision.reason = f"version {version} is already the champion"
    else:
        champ_metrics = score_on_test(download_version(champion_version, params), rows, params, predict_proba)
        decision.champion_f1_weighted = champ_metrics["f1_weighted"]
        decision.champion_accuracy = champ_metrics["accuracy"]
        decision.accepted, decision.reason, decision.intent_f1_drops = gate(
            cand_metrics, champ_metrics, intents, decision.margin, decision.max_intent_f1_drop
        )

    report_dir = resolve_path(cfg.get("report_dir", "logs/promotion"))
    stamp = decision.time.replace(":", "").replace("-", "")
    figure = _comparison_figure(
        cand_metrics,
        champ_metrics,
        {
            "candidate": f"candidate v{version} (weighted F1 {cand_metrics['f1_weighted']:.3f})",
            "champion": f"champion v{champion_version} (weighted F1 {decision.champion_f1_weighted or 0:.3f})",
        },
        intents,
        report_dir / f"{stamp}_v{version}_vs_v{champion_version or 'none'}.png",
    )
    decision.figure = str(figure)
    experiment_id = client.get_experiment_by_name(params["mlflow"]["experiment"]).experiment_id
    with mlflow.start_run(experiment_id=experiment_id, run_name=f"promotion gate v{version}") as run:
        mlflow.set_tags(
            {
                "purpose": "promotion_gate",
                "candidate_version": version,
                "champion_version": champion_version or "none",
                "decision": _word(decision),
                "reason": decision.reason,
                "test_sha256": decision.test_sha256,
            }
        )
        mlflow.log_metrics(
            {
                k: v
                for k, v in {
                    "candidate_f1_weighted": decision.candidate_f1_weighted,
                    "champion_f1_weighted": decision.champion_f1_weighted,
                    "candidate_accuracy": decision.candidate_accuracy,
                    "champion_accuracy": decision.champion_accuracy,
                }.items()
                if v is not None
            }
        )
        mlflow.log_artifact(str(figure), "promotion")
        mlflow.log_dict(asdict(decision), "promotion/decision.json")
    decision.mlflow_run_id = run.info.run_id

    client.set_model_version_tag(name, version, "promotion.decision", _word(decision))
    client.set_model_version_tag(name, version, "promotion.reason", decision.reason)
    client.set_model_version_tag(name, version, "promotion.time", decision.time)
    client.set_model_version_tag(name, version, "promotion.champion_version", champion_version or "none")
    client.set_model_version_tag(name, version, "promotion.test_sha256", decision.test_sha256)
    client.set_model_version_tag(name, version, "promotion.run_id", decision.mlflow_run_id)
    _append_log(resolve_path(cfg.get("promotion_log", "logs/promotion_log.jsonl")), decision)
    return decision


def _word(decision: PromotionDecision) -> str:
    word = "accepted" if decision.accepted else "refused"
    return f"{word} (dry run)" if decision.dry_run else word


def _append_log(path: Path, decision: PromotionDecision) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(decision), sort_keys=True) + "\n")


def promote(
    candidate: str | int = CHALLENGER,
    params: dict | None = None,
    *,
    predict_proba: PredictProba | None = None,
    dry_run: bool = False,
) -> PromotionDecision:
    """Gate the candidate; if accepted (and not a dry run) it becomes champion.

    The old champion keeps the `previous_champion` alias (rollback target); the candidate loses
    `challenger` and gets a `champion_since` tag (promotion history).
    """
    params = params or load_params()
    decision = evaluate_gate(candidate, params, predict_proba=predict_proba, dry_run=dry_run)
    if decision.accepted and not dry_run:
        client = _client(params)
        name = _model_name(params)
        if decision.champion_version is not None:
            client.set_registered_model_alias(name, PREVIOUS_CHAMPION, decision.champion_version)
            client.set_model_version_tag(name, decision.champion_version, "champion_until", decision.time)
        client.set_registered_model_alias(name, CHAMPION, decision.candidate_version)
        client.set_model_version_tag(name, decision.candidate_version, "champion_since", decision.time)
        if _alias_version(client, name, CHALLENGER) == decision.candidate_version:
            client.delete_registered_model_alias(name, CHALLENGER)
    return decision
