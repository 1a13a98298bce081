"""Evaluation metrics as pure functions on numpy arrays.

Labels are integer indices into the intent list of params.yaml; probabilities are (N, C) rows
that sum to 1. Nothing here loads a model or reads a file, so every figure in metrics.json can
be checked by hand or against scikit-learn on a small array (tests/unit/test_metrics.py).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_recall_fscore_support,
    roc_auc_score,
    top_k_accuracy_score,
)

# Probabilities are clipped at this before the log, so a confident miss costs a large but finite
# NLL (27.6 at most). scikit-learn alone clips at float64's epsilon (36.0 at most): clipping here
# first keeps every NLL figure this project reported before it used log_loss.
_EPS = 1e-12


def _check(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 2 or y_true.ndim != 1 or len(y_true) != len(probs):
        raise ValueError(f"expected y_true (N,) and probs (N, C); got {y_true.shape} and {probs.shape}")
    if len(y_true) == 0:
        raise ValueError("no rows to evaluate")
    if y_true.min() < 0 or y_true.max() >= probs.shape[1]:
        raise ValueError(f"labels must be in [0, {probs.shape[1] - 1}]")
    return y_true, probs


def top_k_accuracy(y_true: np.ndarray, probs: np.ndarray, k: int) -> float:
    """Share of rows whose true label is among the k most probable classes (scikit-learn's; on a
    tie at the k-th place it counts the higher class index in)."""
    y_true, probs = _check(y_true, probs)
    return float(top_k_accuracy_score(y_true, probs, k=k, labels=np.arange(probs.shape[1])))


def negative_log_likelihood(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Mean -log p(true class): scikit-learn's log_loss on probabilities clipped at _EPS."""
    y_true, probs = _check(y_true, probs)
    return float(log_loss(y_true, np.clip(probs, _EPS, 1.0), labels=np.arange(probs.shape[1])))


def brier_score(y_true: np.ndarray, probs: np.ndarray) -> float:
    """Multi-class Brier score: mean over rows of sum_c (p_c - onehot_c)^2 (0 best, 2 worst),
    scikit-learn's brier_score_loss, which scales by half only for two classes: kept unscaled."""
    y_true, probs = _check(y_true, probs)
    return float(brier_score_loss(y_true, probs, labels=np.arange(probs.shape[1]), scale_by_half=False))


def reliability_bins(y_true: np.ndarray, probs: np.ndarray, n_bins: int) -> list[dict[str, float]]:
    """Top-label confidence binned into n_bins equal-width bins over (0, 1].

    Each bin: lower, upper, count, confidence (mean), accuracy. Empty bins have count 0 and
    NaN means; they carry no weight in the ECE.
    """
    y_true, probs = _check(y_true, probs)
    if n_bins < 1:
        raise ValueError("n_bins must be >= 1")
    conf = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == y_true).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # bin i holds (edges[i], edges[i+1]]; a confidence of exactly 0 goes to the first bin
    idx = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    bins = []
    for i in range(n_bins):
        mask = idx == i
        n = int(mask.sum())
        bins.append(
            {
                "lower": float(edges[i]),
                "upper": float(edges[i + 1]),
                "count": n,
                "confidence": float(conf[mask].mean()) if n else float("nan"),
                "accuracy": float(correct[mask].mean()) if n else float("nan"),
            }
        )
    return bins


def expected_calibration_error(y_true: np.ndarray, probs: np.ndarray, n_bins: int) -> float:
    """ECE = sum over bins of (bin share) * |accuracy - mean confidence| (top-label)."""
    bins = reliability_bins(y_true, probs, n_bins)
    total = sum(b["count"] for b in bins)
    return float(sum(b["count"] / total * abs(b["accuracy"] - b["confidence"]) for b in bins if b["count"]))


def roc_auc_per_class(y_true: np.ndarray, probs: np.ndarray) -> list[float | None]:
    """One-vs-rest ROC-AUC per class; None where the class is absent or is every row."""
    y_true, probs = _check(y_true, probs)
    out: list[float | None] = []
    for c in range(probs.shape[1]):
        positives = y_true == c
        if positives.all() or not positives.any():
            out.append(None)
        else:
            out.append(float(roc_auc_score(positives, probs[:, c])))
    return out


def classification_metrics(
    y_true: np.ndarray,
    probs: np.ndarray,
    labels: list[str],
    *,
    ece_bins: int,
    top_k: int = 3,
) -> dict[str, Any]:
    """Every intent-head figure of the report, from true labels and predicted probabilities.

    Macro/weighted averages are over the classes present in y_true or predicted (sklearn's
    default), so a tiny test file without some intent is not dragged to zero by it.
    ROC-AUC macro averages the classes where it is defined, and says how many that was.
    """
    y_true, probs = _check(y_true, probs)
    if probs.shape[1] != len(labels):
        raise ValueError(f"probs have {probs.shape[1]} columns but there are {len(labels)} labels")
    y_pred = probs.argmax(axis=1)
    all_classes = list(range(len(labels)))
    prec, rec, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=all_classes, zero_division=0
    )
    aucs = roc_auc_per_class(y_true, probs)
    defined = [a for a in aucs if a is not None]
    present = sorted(set(y_true.tolist()) | set(y_pred.tolist()))
    macro = precision_recall_fscore_support(y_true, y_pred, labels=present, average="macro", zero_division=0)
    weighted = precision_recall_fscore_support(
        y_true, y_pred, labels=present, average="weighted", zero_division=0
    )
    out: dict[str, Any] = {
        "n": int(len(y_true)),
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision_macro": float(macro[0]),
        "recall_macro": float(macro[1]),
        "f1_macro": float(macro[2]),
        "precision_weighted": float(weighted[0]),
        "recall_weighted": float(weighted[1]),
        "f1_weighted": float(weighted[2]),
        "top_k_accuracy": {
            str(k): top_k_accuracy(y_true, probs, k) for k in range(1, min(top_k, probs.shape[1]) + 1)
        },
        "roc_auc_macro": float(np.mean(defined)) if defined else None,
        "roc_auc_classes_defined": len(defined),
        "ece": expected_calibration_error(y_true, probs, ece_bins),
        "ece_bins": int(ece_bins),
        "brier": brier_score(y_true, probs),
        "nll": negative_log_likelihood(y_true, probs),
        "mean_confidence": float(probs.max(axis=1).mean()),
        "per_class": {
            label: {
                "precision": float(prec[c]),
                "recall": float(rec[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
                "predicted": int(np.sum(y_pred == c)),
                "roc_auc": aucs[c],
            }
            for c, label in enumerate(labels)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=all_classes).tolist(),
    }
    return out


def complexity_metrics(
    level_true: np.ndarray,
    level_probs: np.ndarray,
    score_true: np.ndarray | None,
    score_pred: np.ndarray,
    levels: list[str],
) -> dict[str, Any]:
    """Complexity head: level accuracy and F1 (macro, weighted), and MAE of the score.

    score_true may be None (user files carry a level but not always a score): MAE is then None.
    """
    level_true, level_probs = _check(level_true, level_probs)
    level_pred = level_probs.argmax(axis=1)
    present = sorted(set(level_true.tolist()) | set(level_pred.tolist()))
    _, _, f1, support = precision_recall_fscore_support(
        level_true, level_pred, labels=list(range(len(levels))), zero_division=0
    )
    mae = None
    if score_true is not None:
        score_true = np.asarray(score_true, dtype=float)
        score_pred = np.asarray(score_pred, dtype=float)
        mae = float(np.mean(np.abs(score_true - score_pred)))
    return {
        "n": int(len(level_true)),
        "level_accuracy": float(accuracy_score(level_true, level_pred)),
        # levels are ordered (simple < moderate < complex): one level off is a smaller miss
        "level_within_one": float(np.mean(np.abs(level_true - level_pred) <= 1)),
        "level_confusion_matrix": confusion_matrix(level_true, level_pred, labels=list(range(len(levels)))).tolist(),
        "level_f1_macro": float(
            f1_score(level_true, level_pred, labels=present, average="macro", zero_division=0)
        ),
        "level_f1_weighted": float(
            f1_score(level_true, level_pred, labels=present, average="weighted", zero_division=0)
        ),
        "level_per_class_f1": {lv: float(f1[i]) for i, lv in enumerate(levels)},
        "level_support": {lv: int(support[i]) for i, lv in enumerate(levels)},
        "score_mae": mae,
    }


def latency_summary(seconds: list[float] | np.ndarray) -> dict[str, float]:
    """p50/p95/mean/max in milliseconds and the implied prompts per second."""
    ms = np.asarray(seconds, dtype=float) * 1000.0
    if ms.size == 0:
        raise ValueError("no latency samples")
    return {
        "n": int(ms.size),
        "p50_ms": float(np.percentile(ms, 50)),
        "p95_ms": float(np.percentile(ms, 95)),
        "mean_ms": float(ms.mean()),
        "max_ms": float(ms.max()),
        "prompts_per_second": float(1000.0 / ms.mean()),
    }
