"""Retraining loop: warm start keeps the champion's function, merge rules, DVC revisions, end to end."""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import pipeline.modeling.train as train_mod
from model_src.intent_classifier_model import IntentClassifier
from pipeline.modeling.warm_start import init_from_champion
from pipeline.monitoring.retrain import dvc_add, dvc_executable, merge_new_rows, run_retrain
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
def test_run_training_starts_from_init_model_dir(champion, params, tmp_path, tiny_encoder_dir, tiny_rows, intents):
    """Learning rate 0: the trained model is its starting point, i.e. the champion, with old head
    rows found by name in a reordered, grown label list, and the champion's feature scaling kept
    (the run's own data, 20 of the champion's 30 rows, would give other statistics)."""
    import mlflow

    _, champ_dir = champion
    grown = [*reversed(intents), "email_writing"]
    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows[:20], epochs=1, learning_rate=0.0)
    p["intents"] = grown
    result = train_mod.run_training(p, init_model_dir=champ_dir)
    assert result["init_model_dir"] == str(champ_dir) and result["global_step"] > 0
    assert mlflow.MlflowClient().get_run(result["run_id"]).data.params["init_model_dir"] == str(champ_dir)

    champ = IntentClassifier.from_pretrained(champ_dir)
    trained = IntentClassifier.from_pretrained(tmp_path / "model")
    assert trained.config["intents"] == grown
    assert trained.config["feature_mean"] == champ.config["feature_mean"]
    ref, got = champ.state_dict(), trained.state_dict()
    rows = [grown.index(i) for i in intents]
    for key, value in ref.items():
        torch.testing.assert_close(got[key][rows] if key.startswith("intent_head.") else got[key], value, msg=key)
    untouched = train_mod.build_model(p, tiny_encoder_dir, None).state_dict()  # what a cold start would train from
    assert not torch.equal(untouched["encoder.embeddings.word_embeddings.weight"],
                           ref["encoder.embeddings.word_embeddings.weight"])


def _run(cmd: list[str], cwd: Path) -> None:
    res = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, f"{cmd}: {res.stderr}"


def _dvc_out(dvc_file: Path) -> dict:
    return yaml.safe_load(dvc_file.read_text())["outs"][0]


def test_dvc_add_writes_a_new_revision_per_change(tmp_path, monkeypatch):
    """Real git + DVC repository in tmp_path (the project's own .dvc is never touched)."""
    monkeypatch.setenv("DVC_NO_ANALYTICS", "1")
    dvc = str(Path(sys.executable).parent / "dvc")
    _run(["git", "init", "-q"], tmp_path)
    _run([dvc, "init", "-q"], tmp_path)
    data = tmp_path / "data" / "labelled" / "additions.jsonl"
    data.parent.mkdir(parents=True)
    data.write_text(json.dumps({"text": "draft a thank-you note", "intent": "creative_writing"}) + "\n")

    note = dvc_add(data, repo_root=tmp_path)
    assert "new DVC revision of data/labelled/additions.jsonl" in note
    first = _dvc_out(data.with_name("additions.jsonl.dvc"))
    assert first["path"] == "additions.jsonl" and first["md5"] == hashlib.md5(data.read_bytes()).hexdigest()
    cached = tmp_path / ".dvc" / "cache" / "files" / "md5" / first["md5"][:2] / first["md5"][2:]
    assert cached.read_bytes() == data.read_bytes()
    assert "/additions.jsonl" in (data.parent / ".gitignore").read_text().splitlines()  # git keeps only the .dvc

    with data.open("a") as fh:
        fh.write(json.dumps({"text": "plan my week", "intent": "task_planning"}) + "\n")
    dvc_add(data, repo_root=tmp_path)
    second = _dvc_out(data.with_name("additions.jsonl.dvc"))
    assert second["md5"] == hashlib.md5(data.read_bytes()).hexdigest() != first["md5"]
    assert cached.is_file()  # the previous revision stays in the cache: `git checkout` + `dvc checkout` restore it


def test_dvc_executable_from_env_path_or_next_to_python(tmp_path, monkeypatch):
    monkeypatch.setenv("DVC", "/opt/dvc/bin/dvc")
    assert dvc_executable() == "/opt/dvc/bin/dvc"
    monkeypatch.delenv("DVC")
    (tmp_path / "dvc").write_text("#!/bin/sh\n")
    (tmp_path / "dvc").chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert dvc_executable() == str(tmp_path / "dvc")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert dvc_executable() == str(Path(sys.executable).with_name("dvc"))


def test_dvc_add_outside_a_dvc_repository(tmp_path):
    data = tmp_path / "additions.jsonl"
    data.write_text("{}\n")
    assert dvc_add(data, repo_root=tmp_path) == f"no DVC repository (.dvc) in {tmp_path.resolve()}: not versioned"
    assert not data.with_name("additions.jsonl.dvc").exists()
    other = tmp_path / "repo"
    other.mkdir()
    assert "outside the repository" in dvc_add(data, repo_root=other)


@pytest.mark.slow
def test_retrain_end_to_end(champion, tmp_path, intents, capsys):
    p, champ_dir = champion
    p = copy.deepcopy(p)
    p["monitor"]["retrain"].update(epochs=2, learning_rate=5e-4, additions_file=str(tmp_path / "additions.jsonl"),
                                   quarantine_file=str(tmp_path / "quarantine.jsonl"))
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
    kept = tmp_path / ("additions.jsonl" if report["comparison"]["better"] else "quarantine.jsonl")
    assert [json.loads(x)["intent"] for x in kept.read_text().splitlines()] == ["creative_writing", "code_generation"]
    train_rows = (tmp_path / "run" / "data" / "train.jsonl").read_text().splitlines()
    assert any("sleepy cat" in line for line in train_rows)
    assert (tmp_path / "run" / "data" / "test.jsonl").read_text() == (
        Path(p["paths"]["processed_dir"]) / "test.jsonl").read_text()  # frozen
    cmp_ = report["comparison"]
    assert cmp_["champion"]["n"] == cmp_["challenger"]["n"] == 30
    assert isinstance(cmp_["better"], bool) and cmp_["reason"]
    # registered in the test's throwaway MLflow store only when the gate accepted it
    assert report["challenger_version"] == ("1" if cmp_["better"] else None)
    assert (bool(report["canary"]["commands"])) == cmp_["better"]
    assert json.loads((tmp_path / "run" / "retrain_report.json").read_text())["added"] == 2
    with pytest.raises(Exception, match="nothing new to learn"):  # the same file again adds nothing
        run_retrain(p, new, tmp_path / "run2", champion=str(champ_dir), register=False, version_data=False,
                    log_to_mlflow=False)


@pytest.mark.parametrize("better", [True, False], ids=["accepted", "refused"])
def test_refused_challenger_is_not_registered_and_its_rows_are_quarantined(
        params, tmp_path, tiny_encoder_dir, tiny_rows, monkeypatch, better):
    """Training and the comparison are faked: this is about what happens to the rows and the registry."""
    import pipeline.deploy.registry as registry
    import pipeline.monitoring.retrain as retrain_mod

    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows)
    p["monitor"]["retrain"].update(additions_file=str(tmp_path / "additions.jsonl"),
                                   quarantine_file=str(tmp_path / "quarantine.jsonl"))
    p["registry"]["test_file"] = None
    champion_dir = tmp_path / "champion"
    champion_dir.mkdir()
    (champion_dir / "model_config.json").write_text(json.dumps(
        {"base": None, "pooling": "mean", "dropout": 0.1, "max_length": 32, "feature_names": [],
         "freeze_embeddings": False, "freeze_layers": 0}))
    previous = {"text": "an earlier accepted addition", "intent": "conversation", "complexity": "simple"}
    (tmp_path / "additions.jsonl").write_text(json.dumps(previous) + "\n")
    registered = []
    monkeypatch.setattr(train_mod, "run_training", lambda *a, **k: {"model_dir": str(tmp_path / "challenger")})
    monkeypatch.setattr(retrain_mod, "compare_on_test", lambda *a: {"better": better, "reason": "faked decision"})
    gated = []
    monkeypatch.setattr(retrain_mod, "record_gate", lambda version, _p: gated.append(version) or {"accepted": True})
    monkeypatch.setattr(registry, "register_model", lambda model_dir, *a, **k: registered.append(model_dir) or
                        registry.RegisteredVersion(name="m", version="7", run_id="r", source="s"))
    new = tmp_path / "labelled.csv"
    new.write_text("text,intent,complexity\nWrite a haiku about a sleepy cat,creative_writing,simple\n")

    report = run_retrain(p, new, tmp_path / "run", champion=str(champion_dir), version_data=False, log_to_mlflow=False)
    additions = [json.loads(x)["text"] for x in (tmp_path / "additions.jsonl").read_text().splitlines()]
    quarantine = tmp_path / "quarantine.jsonl"
    if better:
        assert registered and report["challenger_version"] == "7"
        assert gated == ["7"] and report["registry_gate"] == {"accepted": True}  # a rollout may take it
        assert additions == [previous["text"], "Write a haiku about a sleepy cat"]
        assert not quarantine.exists()
    else:
        assert registered == [] and gated == [] and report["challenger_version"] is None
        assert report["canary"]["commands"] == []
        assert additions == [previous["text"]]  # the refused rows did not join the training data
        held = [json.loads(x) for x in quarantine.read_text().splitlines()]
        assert [(r["text"], r["refused"], r["source"]) for r in held] == [
            ("Write a haiku about a sleepy cat", "faked decision", str(new))]
        assert report["quarantine_file"] == str(quarantine)
        with pytest.raises(Exception, match="nothing new to learn"):  # held for review, not retrained on again
            run_retrain(p, new, tmp_path / "run2", champion=str(champion_dir), version_data=False, log_to_mlflow=False)
