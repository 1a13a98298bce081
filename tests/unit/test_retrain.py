"""Retraining loop: warm start keeps the champion's function, merge rules, end to end on a tiny model."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import torch

import pipeline.train as train_mod
from model_src.intent_classifier_model import IntentClassifier
from pipeline.retrain import init_from_champion, merge_new_rows, run_retrain
from tests.train_helpers import tiny_params


@pytest.fixture(scope="module")
def champion(tmp_path_factory, params, tiny_encoder_dir, tiny_rows):
    """A tiny model trained on 30 rows: the champion every test here starts from."""
    tmp = tmp_path_factory.mktemp("champion")
    p = tiny_params(params, tmp, tiny_encoder_dir, tiny_rows, epochs=6)
    train_mod.run_training(p, log_to_mlflow=False)
    return p, tmp / "model"


def test_merge_reports_duplicates_and_conflicts(intents):
    known = [{"text": "What is the capital of Peru?", "intent": intents[0], "complexity": "simple"}]
    new = [
        {"text": "what is the   capital of peru?", "intent": intents[0], "complexity": "simple"},
        {"text": "What is the capital of Peru?", "intent": intents[4], "complexity": "simple"},
        {"text": "Plan a week in Lisbon", "intent": intents[8], "complexity": "moderate"},
        {"text": "plan a week in lisbon", "intent": intents[8], "complexity": "moderate"},
    ]
    out = merge_new_rows(new, known)
    assert [r["text"] for r in out["added"]] == ["Plan a week in Lisbon"]
    assert len(out["duplicates"]) == 2
    assert out["conflicts"][0]["existing_intent"] == intents[0] and out["conflicts"][0]["intent"] == intents[4]


@pytest.mark.slow
def test_warm_start_reproduces_the_champion(champion, intents):
    p, champ_dir = champion
    fresh = train_mod.build_model(p, Path(p["model"]["base"]),
                                  {"names": json.loads((champ_dir / "model_config.json").read_text())["feature_names"],
                                   "mean": None, "std": None})
    init_from_champion(fresh, champ_dir)
    ref = IntentClassifier.from_pretrained(champ_dir)
    for key, value in ref.state_dict().items():
        torch.testing.assert_close(fresh.state_dict()[key], value, msg=key)


@pytest.mark.slow
def test_retrain_end_to_end(champion, tmp_path, intents, capsys):
    p, champ_dir = champion
    p = copy.deepcopy(p)
    p["monitor"]["retrain"].update(epochs=2, learning_rate=5e-4, additions_file=str(tmp_path / "additions.jsonl"))
    p["registry"].update(cache_dir=str(tmp_path / "cache"), report_dir=str(tmp_path / "promotion"),
                         promotion_log=str(tmp_path / "promotion_log.jsonl"), test_file=None)
    new = tmp_path / "labelled.csv"
    new.write_text(
        "text,intent,complexity,predicted\n"
        "Write a haiku about a sleepy cat,creative_writing,,question_answering\n"
        "Convert this bash loop to python: for f in *.txt; do echo $f; done,code_generation,moderate,\n"
        "What is the capital of Australia?,question_answering,simple,\n"   # already known: duplicate
        "unlabelled prompt still waiting for a label,,,conversation\n",    # rejected with its line number
        encoding="utf-8")
    report = run_retrain(p, new, tmp_path / "run", champion=str(champ_dir), version_data=False, log_to_mlflow=False)
    assert report["added"] == 2 and report["duplicates"] == 1
    assert [(r["line"], "intent" in r["reason"]) for r in report["rejects"]] == [(5, True)]
    additions = [json.loads(x) for x in (tmp_path / "additions.jsonl").read_text().splitlines()]
    assert [a["intent"] for a in additions] == ["creative_writing", "code_generation"]
    train_rows = (tmp_path / "run" / "data" / "train.jsonl").read_text().splitlines()
    assert any("sleepy cat" in line for line in train_rows)
    assert (tmp_path / "run" / "data" / "test.jsonl").read_text() == (
        Path(p["paths"]["processed_dir"]) / "test.jsonl").read_text()  # frozen
    cmp_ = report["comparison"]
    assert cmp_["champion"]["n"] == cmp_["challenger"]["n"] == 30
    assert isinstance(cmp_["better"], bool) and cmp_["reason"]
    assert report["challenger_version"] == "1"  # registered in the test's throwaway MLflow store
    assert (bool(report["canary"]["commands"])) == cmp_["better"]
    assert json.loads((tmp_path / "run" / "retrain_report.json").read_text())["added"] == 2
    with pytest.raises(Exception, match="nothing new to learn"):  # the same file again adds nothing
        run_retrain(p, new, tmp_path / "run2", champion=str(champ_dir), register=False, version_data=False,
                    log_to_mlflow=False)
