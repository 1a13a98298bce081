"""Error analysis on a fixed 6-row set whose every error is known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.evaluation.error_analysis import analyse_errors

LABELS = ["a", "b", "c"]
TEXTS = ["t0", "t1", "t2", "t3", "t4", "t5"]
Y = np.array([0, 0, 0, 1, 2, 2])
P = np.array(
    [
        [0.95, 0.03, 0.02],  # right, confident
        [0.05, 0.93, 0.02],  # a -> b, confident error
        [0.30, 0.60, 0.10],  # a -> b, unsure error
        [0.20, 0.45, 0.35],  # right, low confidence
        [0.10, 0.10, 0.80],  # right
        [0.70, 0.10, 0.20],  # c -> a
    ]
)


def test_pairs_lists_and_per_class():
    ea = analyse_errors(TEXTS, Y, P, LABELS, low_confidence=0.5, high_confidence=0.9)
    assert ea["n_errors"] == 3
    top = ea["confusion_pairs"][0]
    assert (top["true"], top["predicted"], top["count"]) == ("a", "b", 2)
    assert [e["text"] for e in top["examples"]] == ["t1", "t2"]  # most confident first
    assert [r["text"] for r in ea["misclassified"]] == ["t1", "t5", "t2"]
    assert ea["misclassified"][0]["true_probability"] == pytest.approx(0.05)
    assert [r["text"] for r in ea["low_confidence_correct"]] == ["t3"]
    assert [r["text"] for r in ea["high_confidence_errors"]] == ["t1"]
    assert ea["per_class"]["a"]["errors"] == 2
    assert ea["per_class"]["a"]["confused_with"] == [{"intent": "b", "count": 2}]
    assert ea["per_class"]["b"]["mean_confidence_wrong"] is None


def test_max_examples_cuts_lists_not_counts():
    ea = analyse_errors(TEXTS, Y, P, LABELS, low_confidence=0.5, high_confidence=0.65, max_examples=1)
    assert len(ea["misclassified"]) == 1 and ea["n_errors"] == 3
    assert ea["n_high_confidence_errors"] == 2


def test_length_mismatch_is_an_error():
    with pytest.raises(ValueError, match="differ in length"):
        analyse_errors(TEXTS[:2], Y, P, LABELS, low_confidence=0.5, high_confidence=0.9)
