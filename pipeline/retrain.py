"""The retraining loop: new labelled data -> merged dataset -> fine-tune from the champion -> gate.

    validate (pipeline.ingest, same errors as ingestion)
    -> clean + deduplicate against everything already labelled; conflicting labels reported
    -> append to the cumulative additions file (monitor.retrain.additions_file), `dvc add` it:
       raw data revision + additions revision = the training data of this model
    -> training data = processed train split + all additions; val/test copied unchanged, so the
       test split stays frozen (a re-split would move rows the champion trained on into test)
    -> fine-tune starting from the champion's weights (encoder, heads, feature scaling)
    -> score champion and challenger on the frozen test split with the promotion rule of
       pipeline.registry (weighted-F1 margin, per-intent drop limit)
    -> register the challenger; the canary is proposed only when it is better.

`init_from_champion` also serves new intents (pipeline.add_intent): the intent head's rows are
copied by intent NAME, so a grown label list keeps every old row and adds fresh ones.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.config import PROJECT_ROOT, resolve_path
from pipeline.prediction_log import normalise_text

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
HEAD_KEYS = ("intent_head.weight", "intent_head.bias")


# ---------------------------------------------------------------- warm start


def init_from_champion(model, champion_dir: Path) -> dict[str, Any]:
    """Load the champion's weights into a freshly built model whose intent list may be longer.

    Every tensor must exist with the same shape, except the intent head, whose rows are placed
    by intent name; rows of new intents keep their random init with the bias set to the mean
    old bias (neither favoured nor suppressed at the start). The champion's feature scaling is
    kept so the warm-started model computes exactly the champion's function on old intents.
    """
    import torch
    from safetensors.torch import load_file

    champ_cfg = json.loads((champion_dir / "model_config.json").read_text(encoding="utf-8"))
    champ_state = load_file(str(champion_dir / "model.safetensors"))
    old, new = champ_cfg["intents"], model.config["intents"]
    missing = [i for i in old if i not in new]
    if missing:
        raise ValueError(f"{champion_dir}: intents {missing} are not in the new label list {new}")
    if champ_cfg["feature_names"] != model.config["feature_names"]:
        raise ValueError(f"{champion_dir}: feature names differ from the new model's; cannot warm-start")
    state = model.state_dict()
    unexpected = sorted(set(champ_state) - set(state))
    if unexpected:
        raise ValueError(f"{champion_dir}: tensors {unexpected[:5]} do not exist in the new model (architecture differs)")
    rows = torch.tensor([new.index(i) for i in old])
    with torch.no_grad():
        for key, value in champ_state.items():
            if key in HEAD_KEYS:
                target = state[key]
                if key.endswith("bias"):
                    target[:] = value.mean()
                target[rows] = value
            elif state[key].shape != value.shape:
                raise ValueError(f"{champion_dir}: {key} has shape {tuple(value.shape)}, new model {tuple(state[key].shape)}")
            else:
                state[key] = value
    model.load_state_dict(state)
    model.config["feature_mean"] = list(champ_cfg["feature_mean"])
    model.config["feature_std"] = list(champ_cfg["feature_std"])
    model.feature_mean.copy_(torch.tensor(champ_cfg["feature_mean"], dtype=torch.float32))
    model.feature_std.copy_(torch.tensor(champ_cfg["feature_std"], dtype=torch.float32))
    return {"copied": len(champ_state), "old_intents": len(old), "new_intents": [i for i in new if i not in old]}


@contextlib.contextmanager
def warm_started(champion_dir: Path) -> Iterator[None]:
    """Within the block, pipeline.train.run_training starts from the champion's weights.

    run_training builds its model with `pipeline.train.build_model`; this wraps that function
    for the duration of one call (run_training has no init-weights argument of its own).
    """
    import pipeline.train as train_mod

    original = train_mod.build_model

    def build(params, encoder_dir, features):
        model = original(params, encoder_dir, features)
        info = init_from_champion(model, champion_dir)
        log.info("Warm start from %s: %s", champion_dir, info)
        return model

    train_mod.build_model = build
    try:
        yield
    finally:
        train_mod.build_model = original


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
    from pipeline.clean import clean_text

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
    """Rows as processed splits carry them: complexity_score from the text (pipeline.features)."""
    from pipeline.features import complexity_score

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


def dvc_add(path: Path) -> str:
    """`dvc add` the file when it lives in this DVC repository; returns what happened."""
    path = path.resolve()
    try:
        rel = path.relative_to(PROJECT_ROOT)
    except ValueError:
        return f"{path} is outside the repository: not versioned with DVC"
    if not (PROJECT_ROOT / ".dvc").is_dir():
        return "no DVC repository (.dvc) here: not versioned"
    dvc = Path(__file__).resolve().parent.parent / ".venv" / "bin" / "dvc"
    cmd = [str(dvc) if dvc.is_file() else "dvc", "add", str(rel)]
    res = subprocess.run(cmd, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
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

    from pipeline.predict import Predictor

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
    }


def compare_on_test(champion_dir: Path, challenger_dir: Path, test_rows: Sequence[dict], params: dict) -> dict[str, Any]:
    """Both models on the frozen test split, judged by the registry's promotion rule."""
    from pipeline.registry import gate

    labels = list(params["intents"])
    champ = score(champion_dir, test_rows, labels)
    chall = score(challenger_dir, test_rows, labels)
    better, reason, drops = gate(chall, champ, labels, float(params["registry"]["promotion_margin"]),
                                 float(params["registry"]["max_intent_f1_drop"]))
    return {"champion": champ, "challenger": chall, "better": better, "reason": reason, "intent_f1_drops": drops}


def canary_commands(version: str | None, model_dir: Path) -> list[str]:
    """What starts the canary for this challenger (archive, then roll out)."""
    version = version or "<registered version>"
    mar = f"model_store/intent_classifier_v{version}.mar"
    return [f"make archive MODEL={model_dir} VERSION={version}", f"make canary MAR={mar}"]


def canary_available() -> bool:
    makefile = PROJECT_ROOT / "Makefile"
    return makefile.is_file() and any(line.startswith("canary:") for line in makefile.read_text().splitlines())


# ---------------------------------------------------------------- the loop


def resolve_champion(params: dict, champion: str | None) -> tuple[Path, str | None]:
    """(model dir, registry version): a directory as given, else the registry's `champion` alias."""
    if champion and Path(champion).is_dir():
        return Path(champion), None
    from pipeline.registry import CHAMPION, resolve_alias

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
    from pipeline.ingest import DataValidationError, format_reject, load_labelled_file
    from pipeline.registry import frozen_test_path, register_model
    from pipeline.train import run_training
    from pipeline.train_data import read_jsonl_split

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
    merged = merge_new_rows(rows, known + previous)
    for c in merged["conflicts"]:
        log.warning("conflicting label, not added: %r labelled %s, already %s", c["text"][:80], c["intent"], c["existing_intent"])
    additions = previous + merged["added"]
    if not merged["added"]:
        raise DataValidationError(
            f"{new_data}: nothing new to learn ({len(merged['duplicates'])} duplicates, "
            f"{len(merged['conflicts'])} conflicting labels, {len(rejects)} rejected)")
    write_jsonl(additions_file, additions)
    dvc_note = dvc_add(additions_file) if version_data else "DVC versioning skipped (--no-dvc)"

    out_dir.mkdir(parents=True, exist_ok=True)
    data_dir = build_data_dir(base_processed, out_dir / "data", {"train": additions})
    p = finetune_params(params, champion_dir, data_dir, cfg["epochs"], cfg["learning_rate"])
    with warm_started(champion_dir):
        result = run_training(p, output_dir=out_dir / "model", log_to_mlflow=log_to_mlflow)
    model_dir = Path(result["model_dir"])

    test_file = frozen_test_path(params)
    test_rows = read_jsonl_split(test_file, list(params["intents"]), list(params["complexity_levels"]), need_score=False)
    comparison = compare_on_test(champion_dir, model_dir, test_rows, params)
    version = None
    if register:
        mv = register_model(model_dir, params, description=(
            f"retrained from champion v{champion_version} on {len(merged['added'])} new rows; "
            f"frozen test: {comparison['reason']}"))
        version = mv.version
    canary = {"better": comparison["better"], "available": canary_available(),
              "commands": canary_commands(version, model_dir) if comparison["better"] else []}
    report = {
        "new_data": str(new_data), "rows_valid": len(rows), "rejects": rejects,
        "added": len(merged["added"]), "duplicates": len(merged["duplicates"]), "conflicts": merged["conflicts"],
        "additions_file": str(additions_file), "additions_total": len(additions), "dvc": dvc_note,
        "champion_dir": str(champion_dir), "champion_version": champion_version, "challenger_dir": str(model_dir),
        "challenger_version": version, "frozen_test": str(test_file), "comparison": comparison,
        "training": {k: result.get(k) for k in ("best_val_f1", "epochs_run", "run_id", "train_seconds")},
        "canary": canary,
    }
    (out_dir / "retrain_report.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return report
