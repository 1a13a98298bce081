"""Promotion gate ("deploy if improved"): does a registered candidate beat the champion?

The candidate replaces the champion only if, on the frozen test split, its weighted F1 beats the
champion's by `registry.promotion_margin` and no intent's F1 drops by more than
`registry.max_intent_f1_drop`. The first version becomes champion. Every decision is written as
tags on the candidate version, a JSON line in the promotion log and an MLflow run holding the
figures (per-intent F1 bars).

pipeline.deploy.registry resolves the versions, hands over their model directories and moves the
aliases on an accepted decision (`registry.promote`); this module only judges and records. The
rule alone (`gate`) is also how the retraining loop compares its challenger with the champion.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from pipeline.config import resolve_path
from pipeline.evaluation.metrics import classification_metrics
from pipeline.evaluation.plots import per_class_f1_plot
from pipeline.modeling.train_data import read_jsonl_split

# (model_dir, texts) -> probabilities (N, C) in the model's own intent order
PredictProba = Callable[[Path, list[str]], np.ndarray]


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
# scoring a model directory on the frozen test split


def frozen_test_path(params: dict) -> Path:
    """The split every candidate is judged on: registry.test_file, else the processed test split."""
    configured = (params.get("registry") or {}).get("test_file")
    if configured:
        return resolve_path(configured)
    return resolve_path(params["paths"]["processed_dir"]) / "test.jsonl"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read_test_rows(path: Path, params: dict) -> list[dict]:
    return read_jsonl_split(
        path, list(params["intents"]), list(params["complexity_levels"]), need_score=False
    )


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
    intents = list(params["intents"])
    probs = (predict_proba or _predict_proba)(model_dir, [r["text"] for r in rows])
    probs = _probs_in_params_order(model_dir, np.asarray(probs, dtype=float), intents)
    y_true = np.array([intents.index(r["intent"]) for r in rows])
    return classification_metrics(y_true, probs, intents, ece_bins=params["eval"]["ece_bins"], top_k=1)


# -----------------------------------------------------------------------------
# the rule


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


# -----------------------------------------------------------------------------
# a registered version against the champion


def evaluate_gate(
    client,
    model_name: str,
    version: str,
    champion_version: str | None,
    params: dict,
    *,
    model_dir: Callable[[str], Path],
    predict_proba: PredictProba | None = None,
    dry_run: bool = False,
) -> PromotionDecision:
    """Run the gate for registered `version` against `champion_version` and record the decision.

    `client` is an MlflowClient on the registry's store; `model_dir(version)` is a version's local
    model directory (the registry downloads it). Moves no alias: `registry.promote` does that.
    """
    test_file = frozen_test_path(params)
    if not test_file.is_file():
        raise FileNotFoundError(f"frozen test split {test_file} not found: run `make data` first")
    rows = _read_test_rows(test_file, params)
    cfg = params.get("registry") or {}
    decision = PromotionDecision(
        time=datetime.now(UTC).isoformat(timespec="seconds"),
        model=model_name,
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
    cand_metrics, champ_metrics = _decide(decision, rows, params, model_dir, predict_proba)
    report_dir = resolve_path(cfg.get("report_dir", "logs/promotion"))
    figure = _comparison_figure(decision, cand_metrics, champ_metrics, list(params["intents"]), report_dir)
    decision.figure = str(figure)
    decision.mlflow_run_id = _log_gate_run(client, decision, params)
    _tag_version(client, decision)
    _append_log(resolve_path(cfg.get("promotion_log", "logs/promotion_log.jsonl")), decision)
    return decision


def _decide(
    decision: PromotionDecision, rows: list[dict], params: dict, model_dir: Callable[[str], Path],
    predict_proba: PredictProba | None,
) -> tuple[dict, dict | None]:
    """Score the candidate (and the champion, when there is another one) and fill in the verdict.

    Returns the (candidate, champion) metrics for the figure; champion None when it was not scored.
    """
    version, champion_version = decision.candidate_version, decision.champion_version
    cand_metrics = score_on_test(model_dir(version), rows, params, predict_proba)
    decision.candidate_f1_weighted = cand_metrics["f1_weighted"]
    decision.candidate_accuracy = cand_metrics["accuracy"]
    if champion_version is None:
        decision.accepted, decision.reason = True, "no champion yet: the first model becomes champion"
        return cand_metrics, None
    if champion_version == version:
        decision.reason = f"version {version} is already the champion"
        return cand_metrics, None
    champ_metrics = score_on_test(model_dir(champion_version), rows, params, predict_proba)
    decision.champion_f1_weighted = champ_metrics["f1_weighted"]
    decision.champion_accuracy = champ_metrics["accuracy"]
    decision.accepted, decision.reason, decision.intent_f1_drops = gate(
        cand_metrics, champ_metrics, list(params["intents"]), decision.margin, decision.max_intent_f1_drop
    )
    return cand_metrics, champ_metrics


# -----------------------------------------------------------------------------
# recording the decision


def _comparison_figure(
    decision: PromotionDecision, candidate: dict, champion: dict | None, intents: list[str], report_dir: Path
) -> Path:
    """Per-intent F1 bars of both models, so a reader sees which intents won or lost."""
    version, champion_version = decision.candidate_version, decision.champion_version
    sets = {f"candidate v{version} (weighted F1 {candidate['f1_weighted']:.3f})": candidate["per_class"]}
    if champion is not None:
        label = f"champion v{champion_version} (weighted F1 {decision.champion_f1_weighted or 0:.3f})"
        sets = {label: champion["per_class"], **sets}
    stamp = decision.time.replace(":", "").replace("-", "")
    return per_class_f1_plot(sets, intents, report_dir / f"{stamp}_v{version}_vs_v{champion_version or 'none'}.png")


def _log_gate_run(client, decision: PromotionDecision, params: dict) -> str:
    """An MLflow run with the decision, its figures and the comparison plot; returns its run id."""
    import mlflow

    experiment_id = client.get_experiment_by_name(params["mlflow"]["experiment"]).experiment_id
    run_name = f"promotion gate v{decision.candidate_version}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        mlflow.set_tags(
            {
                "purpose": "promotion_gate",
                "candidate_version": decision.candidate_version,
                "champion_version": decision.champion_version or "none",
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
        mlflow.log_artifact(decision.figure, "promotion")
        mlflow.log_dict(asdict(decision), "promotion/decision.json")
    return run.info.run_id


def _tag_version(client, decision: PromotionDecision) -> None:
    """The decision on the candidate version itself, so the registry shows why it is (not) champion."""
    tags = {
        "promotion.decision": _word(decision),
        "promotion.reason": decision.reason,
        "promotion.time": decision.time,
        "promotion.champion_version": decision.champion_version or "none",
        "promotion.test_sha256": decision.test_sha256,
        "promotion.run_id": decision.mlflow_run_id,
    }
    for key, value in tags.items():
        client.set_model_version_tag(decision.model, decision.candidate_version, key, value)


def _word(decision: PromotionDecision) -> str:
    word = "accepted" if decision.accepted else "refused"
    return f"{word} (dry run)" if decision.dry_run else word


def _append_log(path: Path, decision: PromotionDecision) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(asdict(decision), sort_keys=True) + "\n")
