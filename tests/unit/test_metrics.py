"""Metric functions against hand-computed values and scikit-learn on small fixed arrays."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import (
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
    top_k_accuracy_score,
)

from pipeline.evaluation import metrics

# 6 rows, 3 classes; argmax = [0, 1, 1, 2, 0, 2], truth = [0, 1, 2, 2, 0, 1] -> 4/6 correct
Y = np.array([0, 1, 2, 2, 0, 1])
P = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.5, 0.3],
        [0.1, 0.1, 0.8],
        [0.6, 0.3, 0.1],
        [0.25, 0.35, 0.4],
    ]
)
LABELS = ["a", "b", "c"]


def test_top_k_by_hand_and_sklearn():
    assert metrics.top_k_accuracy(Y, P, 1) == pytest.approx(4 / 6)
    # k=2 recovers both misses: row 2 (true c, second at 0.3) and row 5 (true b, second at 0.35)
    assert metrics.top_k_accuracy(Y, P, 2) == 1.0
    for k in (1, 2):
        assert metrics.top_k_accuracy(Y, P, k) == pytest.approx(top_k_accuracy_score(Y, P, k=k))


def test_nll_brier_by_hand():
    p_true = np.array([0.7, 0.8, 0.3, 0.8, 0.6, 0.35])
    assert metrics.negative_log_likelihood(Y, P) == pytest.approx(-np.log(p_true).mean())
    assert metrics.negative_log_likelihood(Y, P) == pytest.approx(log_loss(Y, P))
    # row 0: (0.7-1)^2 + 0.2^2 + 0.1^2 = 0.14
    assert metrics.brier_score(Y[:1], P[:1]) == pytest.approx(0.14)
    perfect = np.eye(3)[Y]
    assert metrics.brier_score(Y, perfect) == 0.0


def test_a_confident_miss_costs_what_it_cost_before_log_loss():
    """Probabilities clipped at 1e-12 as the hand-written NLL did (scikit-learn alone clips at 2.2e-16)."""
    y, p = np.array([0, 1]), np.array([[0.0, 1.0], [0.0, 1.0]])
    assert metrics.negative_log_likelihood(y, p) == pytest.approx(-math.log(1e-12) / 2)


def test_top_k_counts_absent_classes():
    """Labels come from the probability columns, not from the classes present in y_true."""
    assert metrics.top_k_accuracy(np.array([0, 0]), np.array([[0.5, 0.3, 0.2], [0.1, 0.2, 0.7]]), 2) == 0.5
    assert metrics.brier_score(np.array([2]), np.array([[0.0, 0.0, 1.0]])) == 0.0


def test_ece_by_hand():
    # two bins: confidences 0.7, 0.8 | 0.5, 0.8, 0.6, 0.4 with 2 bins of width 0.5
    # bin (0,0.5]: rows 2 (0.5, wrong) and 5 (0.4, wrong): acc 0, conf 0.45 -> |0-0.45| * 2/6
    # bin (0.5,1]: rows 0,1,3,4: conf mean 0.725, all correct -> |1-0.725| * 4/6
    expected = 2 / 6 * 0.45 + 4 / 6 * 0.275
    assert metrics.expected_calibration_error(Y, P, n_bins=2) == pytest.approx(expected)


def test_ece_near_zero_when_calibrated_and_positive_when_overconfident():
    rng = np.random.default_rng(0)
    n, c = 20000, 4
    conf = rng.uniform(0.3, 1.0, n)
    pred = rng.integers(0, c, n)
    correct = rng.uniform(size=n) < conf  # right exactly as often as it claims
    y = np.where(correct, pred, (pred + rng.integers(1, c, n)) % c)
    probs = np.full((n, c), 0.0)
    probs[np.arange(n), pred] = conf
    rest = (1 - conf) / (c - 1)
    for j in range(c):
        probs[:, j] = np.where(pred == j, conf, rest)
    assert metrics.expected_calibration_error(y, probs, 15) < 0.02

    overconfident = np.full((n, c), 0.01 / (c - 1))
    overconfident[np.arange(n), pred] = 0.99
    assert metrics.expected_calibration_error(y, overconfident, 15) > 0.2


def test_roc_auc_matches_sklearn_and_skips_absent_class():
    aucs = metrics.roc_auc_per_class(Y, P)
    for c in range(3):
        assert aucs[c] == pytest.approx(roc_auc_score(Y == c, P[:, c]))
    missing = metrics.roc_auc_per_class(np.array([0, 1, 0, 1]), P[:4])
    assert missing[2] is None and missing[0] is not None


def test_classification_metrics_against_sklearn():
    m = metrics.classification_metrics(Y, P, LABELS, ece_bins=10, top_k=3)
    pred = P.argmax(1)
    assert m["accuracy"] == pytest.approx(4 / 6)
    for avg in ("macro", "weighted"):
        assert m[f"f1_{avg}"] == pytest.approx(f1_score(Y, pred, average=avg))
        assert m[f"precision_{avg}"] == pytest.approx(precision_score(Y, pred, average=avg))
        assert m[f"recall_{avg}"] == pytest.approx(recall_score(Y, pred, average=avg))
    # class b: predicted at rows 1, 2 (one right), true at rows 1, 5 -> P = R = F1 = 0.5
    assert m["per_class"]["b"]["precision"] == pytest.approx(0.5)
    assert m["per_class"]["b"]["recall"] == pytest.approx(0.5)
    assert m["per_class"]["b"]["support"] == 2
    assert m["roc_auc_macro"] == pytest.approx(roc_auc_score(Y, P, multi_class="ovr", average="macro"))
    assert set(m["top_k_accuracy"]) == {"1", "2", "3"}
    assert m["confusion_matrix"][2] == [0, 1, 1]
    assert not math.isnan(m["ece"])


def test_complexity_metrics_and_latency():
    lv = np.array([0, 1, 2, 2])
    lp = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.0, 0.1, 0.9]])
    m = metrics.complexity_metrics(
        lv,
        lp,
        np.array([0.1, 0.5, 0.9, 0.8]),
        np.array([0.2, 0.5, 0.7, 0.8]),
        ["simple", "moderate", "complex"],
    )
    assert m["level_accuracy"] == pytest.approx(0.75)
    assert m["score_mae"] == pytest.approx((0.1 + 0 + 0.2 + 0) / 4)
    assert metrics.complexity_metrics(lv, lp, None, np.zeros(4), ["s", "m", "c"])["score_mae"] is None
    lat = metrics.latency_summary([0.001, 0.002, 0.003, 0.004])
    assert lat["p50_ms"] == pytest.approx(2.5)
    assert lat["prompts_per_second"] == pytest.approx(400.0)


def test_bad_shapes_are_rejected():
    with pytest.raises(ValueError, match="expected"):
        metrics.top_k_accuracy(Y[:3], P, 1)
    with pytest.raises(ValueError, match="labels"):
        metrics.brier_score(np.array([5]), P[:1])
