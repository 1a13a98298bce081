"""Generator proxy score: a cheap classifier on generated rows, scored on hand-labelled rows."""

from __future__ import annotations

import pytest

from pipeline.datagen.generate import generate_samples
from pipeline.datagen.generator_eval import proxy_accuracy
from scripts.eval_generator import main as eval_main


def test_tfidf_proxy_scores_hand_written_rows(params, tiny_rows):
    rows = generate_samples(600, seed=0, params=params)
    result = proxy_accuracy(rows, tiny_rows, "tfidf")
    assert 0.0 <= result["accuracy"] <= 1.0
    assert len(result["errors"]) == round((1 - result["accuracy"]) * len(tiny_rows))
    assert all(e["predicted"] != e["intent"] for e in result["errors"])
    # 600 generated rows already beat chance (10 %) by far on the conftest's hand-written rows
    assert result["accuracy"] >= 0.5


def test_unknown_method_is_refused(tiny_rows):
    with pytest.raises(ValueError, match="method must be one of"):
        proxy_accuracy(tiny_rows, tiny_rows, "bert-large")


def test_cli_reports_dev_accuracy(capsys):
    assert eval_main(["--num-samples", "300", "--seed", "1"]) == 0
    assert "realistic_dev accuracy" in capsys.readouterr().out
