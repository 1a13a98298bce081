"""Where and how the classifier is wrong, from texts, true labels and probabilities.

Pure function of its inputs: the report renders the result and evaluate.py writes it to
error_analysis.json, so a reviewer can read the actual prompts behind each number.
"""

from __future__ import annotations

from collections import Counter
from functools import partial
from typing import Any

import numpy as np


def _row(texts, y_true, probs, labels, i: int) -> dict[str, Any]:
    pred = int(probs[i].argmax())
    return {
        "text": texts[i],
        "true": labels[int(y_true[i])],
        "predicted": labels[pred],
        "confidence": round(float(probs[i, pred]), 4),
        "true_probability": round(float(probs[i, int(y_true[i])]), 4),
    }


def analyse_errors(
    texts: list[str],
    y_true,
    probs,
    labels: list[str],
    *,
    low_confidence: float,
    high_confidence: float,
    max_examples: int = 15,
    top_pairs: int = 8,
    examples_per_pair: int = 3,
) -> dict[str, Any]:
    """Confusion pairs with examples, misclassified rows, low-confidence hits, confident misses.

    Lists are ordered so the most informative rows come first (confident errors by confidence,
    low-confidence hits from the least sure) and cut to max_examples; the counts are never cut.
    """
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    if len(texts) != len(y_true) or len(y_true) != len(probs):
        raise ValueError(
            f"texts ({len(texts)}), labels ({len(y_true)}) and probs ({len(probs)}) differ in length"
        )
    pred = probs.argmax(axis=1)
    conf = probs.max(axis=1)
    wrong = np.flatnonzero(pred != y_true)
    right = np.flatnonzero(pred == y_true)

    row = partial(_row, texts, y_true, probs, labels)

    def rows(indices) -> list[dict[str, Any]]:
        return [row(int(i)) for i in indices[:max_examples]]

    wrong_by_conf = wrong[np.argsort(-conf[wrong], kind="stable")]
    low_right = right[conf[right] < low_confidence]
    low_right = low_right[np.argsort(conf[low_right], kind="stable")]
    high_wrong = wrong_by_conf[conf[wrong_by_conf] >= high_confidence]
    return {
        "n": int(len(y_true)),
        "n_errors": int(len(wrong)),
        "thresholds": {"low_confidence": low_confidence, "high_confidence": high_confidence},
        "confusion_pairs": _confusion_pairs(row, labels, y_true, pred, conf, wrong, top_pairs, examples_per_pair),
        "misclassified": rows(wrong_by_conf),
        "low_confidence_correct": rows(low_right),
        "n_low_confidence_correct": int(len(low_right)),
        "high_confidence_errors": rows(high_wrong),
        "n_high_confidence_errors": int(len(high_wrong)),
        "per_class": _per_class(y_true, pred, conf, labels),
    }


def _confusion_pairs(
    row, labels: list[str], y_true, pred, conf, wrong, top_pairs: int, examples_per_pair: int
) -> list[dict[str, Any]]:
    """The most frequent (true, predicted) mistakes with their most confident examples: what to fix first."""
    pairs = []
    for (t, p), count in Counter((int(y_true[i]), int(pred[i])) for i in wrong).most_common(top_pairs):
        members = [i for i in wrong if y_true[i] == t and pred[i] == p]
        members.sort(key=lambda i: -conf[i])
        pairs.append(
            {
                "true": labels[t],
                "predicted": labels[p],
                "count": count,
                "examples": [row(i) for i in members[:examples_per_pair]],
            }
        )
    return pairs


def _per_class(y_true, pred, conf, labels: list[str]) -> dict[str, dict]:
    """Per intent with rows: hits, misses, confidence on each, and the intents it is mistaken for."""
    per_class = {}
    for c, label in enumerate(labels):
        members = y_true == c
        n = int(members.sum())
        if n == 0:
            continue
        hits = members & (pred == c)
        misses = members & (pred != c)
        confused_with = Counter(labels[int(p)] for p in pred[misses]).most_common(3)
        per_class[label] = {
            "support": n,
            "correct": int(hits.sum()),
            "errors": int(misses.sum()),
            "accuracy": float(hits.sum() / n),
            "mean_confidence_correct": float(conf[hits].mean()) if hits.any() else None,
            "mean_confidence_wrong": float(conf[misses].mean()) if misses.any() else None,
            "confused_with": [{"intent": name, "count": k} for name, k in confused_with],
        }
    return per_class
