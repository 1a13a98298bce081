"""Registry and promotion gate on a throwaway SQLite tracking store with fake model directories.

The "models" here are directories whose predictions come from a fake predict_proba (each knows
which share of each intent it gets right), so the gate's decisions are exact and fast; the real
model loading path is covered by tests/integration/test_registry_s3.py.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from pipeline.deploy import registry
from pipeline.evaluation import gate


@pytest.fixture(scope="module")
def tracking_dir(tmp_path_factory) -> Path:
    """One MLflow store for the module (creating its tables takes seconds); each test its own model name."""
    return tmp_path_factory.mktemp("mlflow")


@pytest.fixture()
def reg_params(params, tmp_path, tracking_dir, request) -> dict:
    p = copy.deepcopy(params)
    p["mlflow"]["tracking_uri"] = f"sqlite:///{tracking_dir}/mlflow.db"
    p["mlflow"]["artifact_location"] = str(tracking_dir / "artifacts")
    p["mlflow"]["registered_model"] = f"intent_classifier_{request.node.name[5:40]}"
    p["serve"] = {**p["serve"], "runtime": "torch"}  # no ONNX export per registration: the integration tests run it
    p["paths"]["processed_dir"] = str(tmp_path / "processed")
    p["registry"].update(
        cache_dir=str(tmp_path / "cache"),
        report_dir=str(tmp_path / "promotion"),
        promotion_log=str(tmp_path / "promotion_log.jsonl"),
        test_file=None,
    )
    processed = tmp_path / "processed"
    processed.mkdir()
    rows = [
        {"text": f"{intent} prompt {i}", "intent": intent, "complexity": "simple"}
        for intent in p["intents"]
        for i in range(10)
    ]
    (processed / "test.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return p


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory, tiny_encoder_dir, params) -> Path:
    """A real (untrained) model directory: registration saves and loads it as a pyfunc."""
    from tests.serving_helpers import build_tiny_model_dir

    return build_tiny_model_dir(tiny_encoder_dir, tmp_path_factory.mktemp("tiny_model"), params)


@pytest.fixture()
def make_model(tiny_model):
    """make_model(root, name, intents, hit_rate): the tiny model plus the fake predictions' hit rates."""

    def make(root: Path, name: str, intents: list[str], hit_rate: dict[str, float] | float) -> Path:
        d = root / name
        shutil.copytree(tiny_model, d)
        if intents != json.loads((d / "model_config.json").read_text())["intents"]:
            (d / "model_config.json").write_text(json.dumps({"intents": intents}))
        rates = hit_rate if isinstance(hit_rate, dict) else {i: hit_rate for i in intents}
        (d / "fake_hit_rate.json").write_text(json.dumps(rates))
        (d / "training_metrics.json").write_text(json.dumps({"best_val_f1": 0.5, "test": {"f1_weighted": 0.5}}))
        return d

    return make


def fake_predict_proba(model_dir: Path, texts: list[str]) -> np.ndarray:
    """Right for the first `rate` share of each intent's rows (texts end with their index 0..9)."""
    intents = json.loads((model_dir / "model_config.json").read_text())["intents"]
    rates = json.loads((model_dir / "fake_hit_rate.json").read_text())
    probs = np.zeros((len(texts), len(intents)))
    for n, text in enumerate(texts):
        intent, _, idx = text.rsplit(" ", 2)
        c = intents.index(intent)
        right = int(idx) < round(10 * rates[intent])
        probs[n, c if right else (c + 1) % len(intents)] = 1.0
    return probs


def test_first_version_becomes_champion_and_loads_by_alias(make_model, reg_params, tmp_path, intents):
    model = make_model(tmp_path / "models", "m1", intents, 0.8)
    mv = registry.register_model(model, reg_params)
    assert mv.version == "1" and mv.aliases == ["challenger"]

    decision = registry.promote("challenger", reg_params, predict_proba=fake_predict_proba)
    assert decision.accepted and decision.champion_version is None
    assert decision.candidate_f1_weighted == pytest.approx(0.8, abs=0.05)

    version, local = registry.resolve_alias("champion", reg_params)
    assert version == "1"
    assert (local / "model.safetensors").read_bytes() == (model / "model.safetensors").read_bytes()
    assert (local / "fake_hit_rate.json").is_file()
    name = reg_params["mlflow"]["registered_model"]
    assert registry.resolve_model_path(f"models:/{name}@champion", reg_params) == local
    assert (registry.resolve_model_path(f"models:/{name}/1", reg_params) / "model_config.json").is_file()

    client = registry._client(reg_params)
    tags = client.get_model_version(name, "1").tags
    assert tags["promotion.decision"] == "accepted"
    assert tags["metric.test.f1_weighted"] == "0.500000"
    assert tags["git_commit"] and tags["data_hash"] and "champion_since" in tags
    assert registry._alias_version(client, name, "challenger") is None


def test_gate_refuses_worse_and_accepts_better(make_model, reg_params, tmp_path, intents):
    models = tmp_path / "models"
    registry.register_model(make_model(models, "base", intents, 0.7), reg_params)
    assert registry.promote(params=reg_params, predict_proba=fake_predict_proba).accepted

    registry.register_model(make_model(models, "worse", intents, 0.6), reg_params)
    refused = registry.promote(params=reg_params, predict_proba=fake_predict_proba)
    assert not refused.accepted and "below the margin" in refused.reason
    assert registry.resolve_alias("champion", reg_params)[0] == "1"

    registry.register_model(make_model(models, "better", intents, 0.9), reg_params)
    accepted = registry.promote(params=reg_params, predict_proba=fake_predict_proba)
    assert accepted.accepted and accepted.candidate_version == "3" and accepted.champion_version == "1"
    assert accepted.candidate_f1_weighted > accepted.champion_f1_weighted + reg_params["registry"]["promotion_margin"]
    client = registry._client(reg_params)
    name = reg_params["mlflow"]["registered_model"]
    assert registry._alias_version(client, name, "champion") == "3"
    assert registry._alias_version(client, name, "previous_champion") == "1"

    lines = [json.loads(line) for line in Path(reg_params["registry"]["promotion_log"]).read_text().splitlines()]
    assert [(d["candidate_version"], d["accepted"]) for d in lines] == [("1", True), ("2", False), ("3", True)]
    assert all(Path(d["figure"]).is_file() and d["test_rows"] == 100 for d in lines)
    gate_run = client.get_run(lines[-1]["mlflow_run_id"])
    assert gate_run.data.tags["decision"] == "accepted"
    assert [a.path for a in client.list_artifacts(gate_run.info.run_id, "promotion")]


def test_gate_refuses_a_better_average_that_sacrifices_one_intent(make_model, reg_params, tmp_path, intents):
    models = tmp_path / "models"
    registry.register_model(make_model(models, "base", intents, 0.7), reg_params)
    registry.promote(params=reg_params, predict_proba=fake_predict_proba)
    lopsided = {i: 1.0 for i in intents} | {intents[0]: 0.4}
    registry.register_model(make_model(models, "lopsided", intents, lopsided), reg_params)
    decision = registry.promote(params=reg_params, predict_proba=fake_predict_proba)
    assert decision.candidate_f1_weighted > decision.champion_f1_weighted
    assert not decision.accepted and intents[0] in decision.reason
    assert decision.intent_f1_drops[intents[0]] > reg_params["registry"]["max_intent_f1_drop"]


def test_dry_run_moves_no_alias(make_model, reg_params, tmp_path, intents):
    registry.register_model(make_model(tmp_path / "models", "m1", intents, 0.8), reg_params)
    decision = registry.promote(params=reg_params, predict_proba=fake_predict_proba, dry_run=True)
    assert decision.accepted and decision.dry_run
    with pytest.raises(KeyError, match="champion"):
        registry.resolve_alias("champion", reg_params)


def test_register_refuses_broken_model_dirs(make_model, reg_params, tmp_path, intents):
    broken = make_model(tmp_path / "models", "no_weights", intents, 0.5)
    (broken / "model.safetensors").unlink()
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        registry.register_model(broken, reg_params)
    bad_labels = make_model(tmp_path / "models", "bad_labels", ["not_an_intent"], 0.5)
    with pytest.raises(ValueError, match="not_an_intent"):
        registry.register_model(bad_labels, reg_params)
    with pytest.raises(FileNotFoundError, match="neither a model directory"):
        registry.register_model(tmp_path / "missing", reg_params)


def test_register_from_run_id_wraps_its_model_directory(make_model, reg_params, tmp_path, intents):
    import mlflow

    model = make_model(tmp_path / "models", "trained", intents, 0.8)
    registry._client(reg_params)
    with mlflow.start_run() as run:
        mlflow.log_artifacts(str(model), "model")
        mlflow.log_metric("test_f1_weighted", 0.81)
        mlflow.set_tag("git_commit", "abc123")
    mv = registry.register_model(run.info.run_id, reg_params, alias=None)
    assert mv.aliases == []
    client = registry._client(reg_params)
    tags = client.get_model_version(reg_params["mlflow"]["registered_model"], mv.version).tags
    assert tags["git_commit"] == "abc123" and tags["metric.test_f1_weighted"] == "0.810000"
    assert client.get_run(mv.run_id).data.tags["training_run_id"] == run.info.run_id
    assert (registry.download_version(mv.version, reg_params) / "fake_hit_rate.json").is_file()


def test_resolve_model_path_rejects_other_uris(reg_params, tmp_path):
    with pytest.raises(ValueError, match="expected models"):
        registry.resolve_model_path(f"models:/{reg_params['mlflow']['registered_model']}", reg_params)
    with pytest.raises(ValueError, match="registered model is"):
        registry.resolve_model_path("models:/other@champion", reg_params)
    assert registry.resolve_model_path(tmp_path, reg_params) == tmp_path


def test_cli_register_list_promote_resolve(make_model, reg_params, tmp_path, intents, monkeypatch, capsys):
    import yaml

    from scripts import register_model as cli

    config = tmp_path / "params.yaml"
    config.write_text(yaml.safe_dump(reg_params))
    monkeypatch.setattr(gate, "_predict_proba", fake_predict_proba)
    model = make_model(tmp_path / "models", "m1", intents, 0.8)
    assert cli.main(["--params", str(config), "resolve"]) == 1
    assert "no alias 'champion'" in capsys.readouterr().err
    assert cli.main(["--params", str(config), "register", "--model-dir", str(model), "--no-gate"]) == 0
    assert cli.main(["--params", str(config), "list"]) == 0
    assert "aliases=challenger" in capsys.readouterr().out
    assert cli.main(["--params", str(config), "promote"]) == 0  # first version: champion
    assert cli.main(["--params", str(config), "register", "--model-dir", str(model)]) == 0  # gate refuses, still 0
    assert "REFUSED" in capsys.readouterr().out
    assert cli.main(["--params", str(config), "promote", "--version", "2"]) == cli.REFUSED
    assert cli.main(["--params", str(config), "resolve", "--alias", "champion"]) == 0
    assert '"version": "1"' in capsys.readouterr().out
