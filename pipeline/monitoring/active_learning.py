"""Active learning: the most uncertain prompts, near-duplicates removed, as a CSV to label.

Uncertainty of a prediction from its intent probabilities:
- margin: 1 - (p_top1 - p_top2); a near tie between two intents is the label most worth buying;
- entropy: -sum p log p / log C, in [0, 1]; spread over many intents.
Near-duplicates: prompts equal after normalisation (case, whitespace) are one prompt; then a
greedy pass keeps the most uncertain prompt of each group whose character 5-gram Jaccard
similarity is at or above the threshold (templated traffic otherwise fills the whole batch
with one prompt in ten spellings).

The CSV has the columns ingestion reads (`text`, `intent` left empty, `complexity` left empty:
derived from the text when not filled) plus `predicted`, `confidence`, `uncertainty`,
`model_version` as hints for the labeller; `make retrain NEW_DATA=that.csv` takes it back.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from model_src.prediction_log import normalise_text, text_hash

METHODS = ("margin", "entropy")
SHINGLE = 5
CSV_COLUMNS = ["text", "intent", "complexity", "predicted", "confidence", "uncertainty", "model_version"]


def uncertainty(probabilities: Sequence[float], method: str) -> float:
    """Higher = less sure. margin: 1 - (top1 - top2); entropy: normalised Shannon entropy."""
    p = sorted((float(x) for x in probabilities), reverse=True)
    if len(p) < 2:
        raise ValueError(f"need at least 2 class probabilities, got {len(p)}")
    if method == "margin":
        return 1.0 - (p[0] - p[1])
    if method == "entropy":
        return -sum(x * math.log(x) for x in p if x > 0) / math.log(len(p))
    raise ValueError(f"unknown uncertainty method {method!r}; use one of {METHODS}")


def shingles(text: str, k: int = SHINGLE) -> frozenset[str]:
    """Character k-grams of the normalised text (the whole text when shorter than k)."""
    t = normalise_text(text)
    return frozenset(t[i:i + k] for i in range(max(1, len(t) - k + 1)))


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def select_uncertain(
    candidates: Iterable[dict[str, Any]], n: int, method: str, jaccard_threshold: float,
    exclude_hashes: set[str] | None = None,
) -> list[dict[str, Any]]:
    """The n most uncertain candidates ({text, probabilities, ...}), one per near-duplicate group.

    Candidates whose text hash is in `exclude_hashes` (already labelled) are skipped.
    Returns copies with `uncertainty` added, most uncertain first.
    """
    if n <= 0:
        raise ValueError(f"n must be > 0, got {n}")
    if method not in METHODS:
        raise ValueError(f"unknown uncertainty method {method!r}; use one of {METHODS}")
    exclude_hashes = exclude_hashes or set()
    best: dict[str, dict[str, Any]] = {}
    for cand in candidates:
        h = text_hash(cand["text"])
        if h in exclude_hashes:
            continue
        scored = {**cand, "uncertainty": uncertainty(list(cand["probabilities"].values()), method)}
        if h not in best or scored["uncertainty"] > best[h]["uncertainty"]:
            best[h] = scored
    ranked = sorted(best.values(), key=lambda c: -c["uncertainty"])
    chosen: list[dict[str, Any]] = []
    chosen_shingles: list[frozenset[str]] = []
    for cand in ranked:
        s = shingles(cand["text"])
        if any(jaccard(s, other) >= jaccard_threshold for other in chosen_shingles):
            continue
        chosen.append(cand)
        chosen_shingles.append(s)
        if len(chosen) == n:
            break
    return chosen


def candidates_from_log(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Log records usable for selection; raises when the log kept no raw text."""
    records = list(records)
    usable = [r for r in records if r.get("text") and r.get("probabilities")]
    if records and not usable:
        if not any(r.get("text") for r in records):
            raise ValueError(
                "the prediction log holds text hashes only: set monitor.log_raw_text: true to log prompts, "
                "or pass a file of prompts (--prompts) to be scored by the model"
            )
        raise ValueError("the prediction log records carry no probabilities: re-score them with --prompts and a model")
    return usable


def candidates_from_predictions(texts: Sequence[str], predictions: Sequence[dict[str, Any]], model_version: str) -> list[dict[str, Any]]:
    """Candidates from Predictor.predict output on a file of prompts."""
    return [
        {"text": t, "intent": p["intent"], "confidence": p["confidence"], "probabilities": p["probabilities"],
         "model_version": model_version}
        for t, p in zip(texts, predictions, strict=True)
    ]


def write_labelling_csv(rows: Sequence[dict[str, Any]], path: Path) -> Path:
    """CSV ready for labelling: fill `intent` (and optionally `complexity`), then retrain."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for r in rows:
            writer.writerow({
                "text": r["text"], "intent": "", "complexity": "", "predicted": r["intent"],
                "confidence": f"{float(r['confidence']):.4f}", "uncertainty": f"{r['uncertainty']:.4f}",
                "model_version": r.get("model_version", ""),
            })
    return path


def read_prompts(path: Path) -> list[str]:
    """Prompts from .txt (one per line), .jsonl (field `text`) or .csv (column `text`)."""
    import json

    if not path.is_file():
        raise FileNotFoundError(f"prompts file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".txt":
        return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if suffix == ".jsonl":
        texts = []
        for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(rec, dict) or not isinstance(rec.get("text"), str) or not rec["text"].strip():
                raise ValueError(f"{path}:{lineno}: expected an object with a non-empty string field 'text'")
            texts.append(rec["text"])
        return texts
    if suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.DictReader(fh)
            if "text" not in (reader.fieldnames or []):
                raise ValueError(f"{path}:1: no 'text' column (header: {reader.fieldnames})")
            return [row["text"] for row in reader if (row["text"] or "").strip()]
    raise ValueError(f"{path}: unsupported prompts file type '{suffix}' (use .txt, .jsonl or .csv)")
