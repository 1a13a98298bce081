"""The retraining loop: new labelled data -> merged dataset -> fine-tune from the champion -> gate.

    validate (pipeline.data.ingest, same errors as ingestion)
    -> clean + deduplicate against everything already labelled; conflicting labels reported
    -> training data = processed train split + all accepted additions + the new rows; val/test
       copied unchanged, so the test split stays frozen (a re-split would move rows the champion
       trained on into test)
    -> fine-tune starting from the champion's weights (encoder, heads, feature scaling)
    -> score champion and challenger on the frozen test split with the promotion rule of
       pipeline.evaluation.gate (weighted-F1 margin, per-intent drop limit)
    -> accepted: the new rows join the cumulative additions file (monitor.retrain.additions_file),
       `dvc add`ed (raw data revision + additions revision = the training data of this model), the
       challenger is registered, the registry's promotion gate is recorded on it (so a rollout may
       take it) and the canary proposed, or run (pipeline.monitoring.retrain_deploy, DEPLOY=1);
       refused: nothing is registered and the new rows go to monitor.retrain.quarantine_file with
       the reason, so a later retrain does not build on data that made a worse model (resubmitted,
       they count as duplicates: a reviewer moves them back to the additions file or drops them).

The warm start is `run_training(..., init_model_dir=champion)` (pipeline.modeling.warm_start); it also
serves new intents (pipeline.monitoring.add_intent): the intent head's rows are copied by intent NAME, so a
grown label list keeps every old row and adds fresh ones.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import logging
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from model_src.prediction_log import normalise_text
from pipeline.config import PROJECT_ROOT, resolve_path

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")


# ---------------------------------------------------------------- fine-tuning


def finetune_params(params: dict, champion_dir: Path, data_dir: Path, epochs: int, learning_rate: float,
                    intents: Sequence[str] | None = None) -> dict:
    """params for fine-tuning: architecture from the champion's config, data from data_dir."""
    cfg = json.loads((champion_dir / "model_config.json").read_text(encoding="utf-8"))
    p = copy.deepcopy(params)
    p["paths"]["processed_dir"] = str(data_dir)
    p["model"].update(
        base=cfg["base"] or p["model"]["base"], pooling=cfg["pooling"], dropout=cfg["dropout"],
        max_length=cfg["max_length"], use_complexity_features=bool(cfg["feature_names"]),
        freeze_embeddings=cfg["freeze_embeddings"], freeze_layers=cfg["freeze_layers"],
    )
    p["train"].update(epochs=int(epochs), learning_rate=float(learning_rate))
    if intents is not None:
        p["intents"] = list(intents)
    return p


# ---------------------------------------------------------------- data


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def merge_new_rows(new_rows: Sequence[dict], known_rows: Sequence[dict]) -> dict[str, list]:
    """Split new rows into added / duplicates (same text, same label) / conflicts (other label).

    Texts compare after cleaning + normalisation; a conflict is reported, never silently
    relabelled: the labeller decides which label is right.
    """
    from pipeline.data.clean import clean_text

    known = {normalise_text(r["text"]): r["intent"] for r in known_rows}
    added, duplicates, conflicts = [], [], []
    for row in new_rows:
        text = clean_text(row["text"])
        key = normalise_text(text)
        if key in known:
            (duplicates if known[key] == row["intent"] else conflicts).append(
                {**row, "text": text, "existing_intent": known[key]})
            continue
        known[key] = row["intent"]
        added.append({"text": text, "intent": row["intent"], "complexity": row["complexity"]})
    return {"added": added, "duplicates": duplicates, "conflicts": conflicts}


def with_score(rows: Sequence[dict]) -> list[dict]:
    """Rows as processed splits carry them: complexity_score from the text (model_src.features)."""
    from model_src.features import complexity_score

    return [{**r, "complexity_score": round(complexity_score(r["text"]), 6)} for r in rows]


def write_jsonl(path: Path, rows: Sequence[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def build_data_dir(base_processed: Path, out_dir: Path, extra: dict[str, Sequence[dict]]) -> Path:
    """out_dir/{train,val,test}.jsonl = the base splits + extra rows per split (scored)."""
    for split in SPLITS:
        base = base_processed / f"{split}.jsonl"
        if not base.is_file():
            raise FileNotFoundError(f"{base} not found: run `make data` first")
        write_jsonl(out_dir / f"{split}.jsonl", read_rows(base) + with_score(extra.get(split, [])))
    return out_dir


def dvc_executable() -> str:
    """$DVC, else `dvc` on PATH, else the one installed next to this Python (the venv's)."""
    return os.environ.get("DVC") or shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))


def dvc_add(path: Path, repo_root: Path = PROJECT_ROOT) -> str:
    """`dvc add` the file when it lives in the DVC repository at repo_root; returns what happened.

    The file is hashed into the DVC cache and `<file>.dvc` records its md5: committing that
    small file (git) names this revision of the data.
    """
    path, repo_root = path.resolve(), repo_root.resolve()
    try:
        rel = path.relative_to(repo_root)
    except ValueError:
        return f"{path} is outside the repository: not versioned with DVC"
    if not (repo_root / ".dvc").is_dir():
        return f"no DVC repository (.dvc) in {repo_root}: not versioned"
    cmd = [dvc_executable(), "add", str(rel)]
    res = subprocess.run(cmd, cwd=repo_root, capture_output=True, text=True, timeout=300)
    if res.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{res.stderr.strip()}")
    return (f"new DVC revision of {rel}: commit it with `git add {rel}.dvc && git commit -m 'labelled data' "
            f"&& dvc push`")


# ---------------------------------------------------------------- comparison


def score(model_dir: Path, rows: Sequence[dict], labels: Sequence[str]) -> dict[str, Any]:
    """Weighted F1, accuracy and per-intent F1/support of a model dir on labelled rows.

    The model's probability columns are mapped to `labels` by name: a model without an intent
    never predicts it (its F1 there is 0), which is what comparing old vs grown heads needs.
    """
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    from pipeline.modeling.predict import Predictor

    predictor = Predictor(model_dir)
    probs = predictor.predict_proba([r["text"] for r in rows])[0]
    pred = [predictor.intents[j] for j in np.asarray(probs).argmax(1)]
    true = [r["intent"] for r in rows]
    _, _, f1, support = precision_recall_fscore_support(true, pred, labels=list(labels), zero_division=0)
    return {
        "n": len(rows),
        "accuracy": float(accuracy_score(true, pred)),
        "f1_weighted": float(f1_score(true, pred, labels=sorted(set(true)), average="weighted", zero_division=0)),
        "per_class": {label: {"f1": float(f), "support": int(s)} for label, f, s in zip(labels, f1, support, strict=True)},
        "predicted_counts": dict(Counter(pred)),
    }


def compare_on_test(champion_dir: Path, challenger_dir: Path, test_rows: Sequence[dict], params: dict) -> dict[str, Any]:
    """Both models on the frozen test split, judged by the promotion gate's rule (pipeline/evaluation/gate.py)."""
    from pipeline.evaluation.gate import gate

    labels = list(params["intents"])
    champ = score(champion_dir, test_rows, labels)
    chall = score(challenger_dir, test_rows, labels)
    better, reason, drops = gate(chall, champ, labels, float(params["registry"]["promotion_margin"]),
                                 float(params["registry"]["max_intent_f1_drop"]))
    return {"champion": champ, "challenger": chall, "better": better, "reason": reason, "intent_f1_drops": drops}


def quarantine(path: Path, rows: Sequence[dict], source: Path, reason: str) -> Path:
    """Append rows whose challenger the gate refused, each with where it came from and why."""
    stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({**row, "source": str(source), "refused": reason, "time": stamp}, ensure_ascii=False) + "\n")
    return path


def canary_commands(version: str | None, model_dir: Path) -> list[str]:
    """What starts the canary for this challenger (archive, then roll out)."""
    version = version or "<registered version>"
    mar = f"model_store/intent_classifier_v{version}.mar"
    return [f"make archive MODEL={model_dir} VERSION={version}", f"make canary MAR={mar}"]


# ---------------------------------------------------------------- the loop


def new_run_dir(params: dict, prefix: str = "") -> Path:
    """monitor.retrain.output_dir/<prefix><UTC time>: a fresh directory for one run."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")
    return resolve_path(params["monitor"]["retrain"]["output_dir"]) / f"{prefix}{stamp}"


def resolve_champion(params: dict, champion: str | None) -> tuple[Path, str | None]:
    """(model dir, registry version): a directory as given, else the registry's `champion` alias."""
    if champion and Path(champion).is_dir():
        return Path(champion), None
    from pipeline.deploy.registry import CHAMPION, resolve_alias

    version, path = resolve_alias(champion or CHAMPION, params)
    return Path(path), version


def run_retrain(
    params: dict,
    new_data: Path,
    out_dir: Path,
    *,
    champion: str | None = None,
    register: bool = True,
    version_data: bool = True,
    log_to_mlflow: bool = True,
    strict: bool = False,
) -> dict[str, Any]:
    """The whole loop (module docstring); returns the report also written to out_dir."""
    from pipeline.data.ingest import DataValidationError, format_reject, load_labelled_file
    from pipeline.deploy.registry import register_model
    from pipeline.evaluation.gate import frozen_test_path
    from pipeline.modeling.train import run_training
    from pipeline.modeling.train_data import read_jsonl_split

    cfg = params["monitor"]["retrain"]
    rows, rejects = load_labelled_file(new_data, params, strict=strict)
    for r in rejects:
        log.warning("rejected %s", format_reject(r))
    if not rows:
        raise DataValidationError(f"{new_data}: no usable labelled rows ({len(rejects)} rejected)", rejects)
    champion_dir, champion_version = resolve_champion(params, champion)
    base_processed = resolve_path(params["paths"]["processed_dir"])
    additions_file = resolve_path(cfg["additions_file"])
    previous = read_rows(additions_file) if additions_file.is_file() else []
    known = [r for s in SPLITS if (base_processed / f"{s}.jsonl").is_file() for r in read_rows(base_processed / f"{s}.jsonl")]
    quarantine_file = resolve_path(cfg["quarantine_file"])
    held = read_rows(quarantine_file) if quarantine_file.is_file() else []  # under review: not new again
    merged = merge_new_rows(rows, known + previous + held)
    for c in merged["conflicts"]:
        log.warning("conflicting label, not added: %r labelled %s, already %s", c["text"][:80], c["intent"], c["existing_intent"])
    additions = previous + merged["added"]
    if not merged["added"]:
        raise DataValidationError(
            f"{new_data}: nothing new to learn ({len(merged['duplicates'])} duplicates, "
            f"{len(merged['conflicts'])} conflicting labels, {len(rejects)} rejected)")

    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = build_data_dir(base_processed, out_dir / "data", {"train": additions})
    p = finetune_params(params, champion_dir, data_dir, cfg["epochs"], cfg["learning_rate"])
    result = run_training(p, output_dir=out_dir / "model", log_to_mlflow=log_to_mlflow, init_model_dir=champion_dir)
    model_dir = Path(result["model_dir"])

    test_file = frozen_test_path(params)
    test_rows = read_jsonl_split(test_file, list(params["intents"]), list(params["complexity_levels"]), need_score=False)
    comparison = compare_on_test(champion_dir, model_dir, test_rows, params)
    version, quarantined, gate_decision = None, None, None
    if comparison["better"]:
        write_jsonl(additions_file, additions)
        dvc_note = dvc_add(additions_file) if version_data else "DVC versioning skipped (--no-dvc)"
        if register:
            mv = register_model(model_dir, params, description=(
                f"retrained from champion v{champion_version} on {len(merged['added'])} new rows; "
                f"frozen test: {comparison['reason']}"))
            version = mv.version
            gate_decision = record_gate(version, params)
    else:
        quarantined = quarantine(quarantine_file, merged["added"], new_data, comparison["reason"])
        dvc_note = f"challenger refused: not registered, {len(merged['added'])} new rows quarantined in {quarantined}"
    canary = {"better": comparison["better"],
              "commands": canary_commands(version, model_dir) if comparison["better"] else []}
    report = {
        "new_data": str(new_data), "rows_valid": len(rows), "rejects": rejects,
        "added": len(merged["added"]), "duplicates": len(merged["duplicates"]), "conflicts": merged["conflicts"],
        "additions_file": str(additions_file), "additions_total": len(previous) + (0 if quarantined else len(merged["added"])),
        "quarantine_file": str(quarantined) if quarantined else None, "dvc": dvc_note,
        "champion_dir": str(champion_dir), "champion_version": champion_version, "challenger_dir": str(model_dir),
        "challenger_version": version, "registry_gate": gate_decision, "frozen_test": str(test_file),
        "comparison": comparison,
        "training": {k: result.get(k) for k in ("best_val_f1", "epochs_run", "run_id", "train_seconds")},
        "canary": canary,
    }
    write_report(out_dir, report)
    return report


def write_report(out_dir: Path, report: dict) -> Path:
    """out_dir/retrain_report.json (rewritten when the deployment adds its outcome)."""
    path = out_dir / "retrain_report.json"
    path.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return path


def record_gate(version: str, params: dict) -> dict:
    """The promotion gate run on the registered challenger and recorded on it (no alias moves), so
    `make canary` of this version passes the mandatory gate check; the champion alias moves only
    when its canary promotes."""
    from pipeline.deploy.registry import judge

    decision = judge(version, params)
    if not decision.accepted:
        log.warning("registry gate refused v%s although the retrain comparison accepted it: %s", version, decision.reason)
    return {"accepted": decision.accepted, "reason": decision.reason, "champion_version": decision.champion_version}
