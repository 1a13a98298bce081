"""Active learning: uncertainty scores, near-duplicate removal, labelling CSV that ingestion accepts."""

from __future__ import annotations

import csv
import math

import pytest

from model_src.prediction_log import PredictionLogger
from pipeline.data.ingest import load_labelled_file
from pipeline.monitoring.active_learning import (
    candidates_from_log,
    jaccard,
    select_uncertain,
    shingles,
    uncertainty,
    write_labelling_csv,
)
from scripts.select_uncertain import main as select_main


def _probs(intents, top, second=None, p_top=0.9):
    rest = (1 - p_top) / (len(intents) - 1)
    probs = {i: rest for i in intents}
    probs[top] = p_top
    if second:
        probs[second] = 1 - p_top - rest * (len(intents) - 2)
    return probs


def test_uncertainty_margin_and_entropy():
    assert uncertainty([0.5, 0.5], "margin") == pytest.approx(1.0)
    assert uncertainty([1.0, 0.0], "margin") == pytest.approx(0.0)
    assert uncertainty([0.25] * 4, "entropy") == pytest.approx(1.0)
    assert uncertainty([1.0, 0, 0, 0], "entropy") == pytest.approx(0.0)
    assert uncertainty([0.7, 0.2, 0.1], "margin") == pytest.approx(0.5)
    assert uncertainty([0.7, 0.2, 0.1], "entropy") == pytest.approx(
        -(0.7 * math.log(0.7) + 0.2 * math.log(0.2) + 0.1 * math.log(0.1)) / math.log(3))
    with pytest.raises(ValueError, match="unknown uncertainty method"):
        uncertainty([0.5, 0.5], "vibes")


def test_shingle_jaccard_sees_near_duplicates():
    a = shingles("Write a Python function that reverses a linked list")
    b = shingles("write a python function that reverses a linked list!")
    c = shingles("Plan a three day trip to Rome on a budget")
    assert jaccard(a, b) > 0.8
    assert jaccard(a, c) < 0.2


def test_select_keeps_most_uncertain_and_drops_duplicates(intents):
    def cand(text, p_top):
        return {"text": text, "intent": intents[0], "confidence": p_top,
                "probabilities": _probs(intents, intents[0], intents[1], p_top)}

    candidates = [
        cand("Summarize this report for me please", 0.45),
        cand("summarize this   REPORT for me please", 0.40),           # exact dup after normalising, more uncertain
        cand("Summarize this report for me please!!", 0.42),           # near dup
        cand("How do I fix a leaking tap in the kitchen", 0.5),
        cand("Translate good night into French", 0.95),
        cand("Already labelled prompt", 0.3),
    ]
    from model_src.prediction_log import text_hash

    chosen = select_uncertain(candidates, n=3, method="margin", jaccard_threshold=0.8,
                              exclude_hashes={text_hash("already labelled prompt")})
    assert [c["text"] for c in chosen] == [
        "summarize this   REPORT for me please", "How do I fix a leaking tap in the kitchen",
        "Translate good night into French"]
    assert chosen[0]["uncertainty"] > chosen[1]["uncertainty"] > chosen[2]["uncertainty"]


def test_log_without_raw_text_is_a_clear_error():
    with pytest.raises(ValueError, match="log_raw_text"):
        candidates_from_log([{"text_hash": "x", "probabilities": {"a": 1.0}}])


def test_csv_is_accepted_by_ingestion_once_labelled(tmp_path, params, intents):
    rows = [{"text": "Plan my week", "intent": intents[8], "confidence": 0.4, "uncertainty": 0.9, "model_version": "2"},
            {"text": 'A "quoted", comma prompt\nwith a newline', "intent": intents[0], "confidence": 0.5,
             "uncertainty": 0.8}]
    path = write_labelling_csv(rows, tmp_path / "u.csv")
    with path.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert [r["predicted"] for r in table] == [intents[8], intents[0]]
    assert all(r["intent"] == "" for r in table)
    good, rejects = load_labelled_file(path, params)  # unlabelled: every row reported, none kept
    assert good == [] and len(rejects) == 2 and "intent" in rejects[0]["reason"]
    for r in table:
        r["intent"] = r["predicted"]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    good, rejects = load_labelled_file(path, params)
    assert rejects == [] and [g["text"] for g in good] == [r["text"] for r in rows]


def test_cli_from_prediction_log(tmp_path, intents, capsys):
    logger = PredictionLogger(tmp_path / "log" / "p.jsonl", log_raw_text=True)
    for i in range(30):
        p_top = 0.3 + i * 0.02
        logger.log(text=f"prompt number {i} about topic {i * 7}", model_version="5", intent=intents[i % 10],
                   confidence=p_top, probabilities=_probs(intents, intents[i % 10], intents[(i + 1) % 10], p_top))
    logger.close()
    out = tmp_path / "u.csv"
    code = select_main(["--n", "5", "--log", str(tmp_path / "log"), "--out", str(out), "--exclude"])
    assert code == 0
    with out.open(newline="", encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 5
    assert table[0]["text"] == "prompt number 0 about topic 0"  # lowest top-1 probability first
    assert table[0]["model_version"] == "5"
    hashed = PredictionLogger(tmp_path / "log2" / "p.jsonl")
    hashed.log(text="x", model_version="5", intent=intents[0], confidence=0.5, probabilities=_probs(intents, intents[0]))
    hashed.close()
    assert select_main(["--log", str(tmp_path / "log2"), "--out", str(out), "--exclude"]) == 2
    assert "log_raw_text" in capsys.readouterr().err
