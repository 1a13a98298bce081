"""The training loop on a tiny random encoder and 30 rows: learning, resume, MLflow, bad input, CLI."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

import pipeline.modeling.train as train_mod
from pipeline.modeling.train_data import length_bucketed_batches, read_jsonl_split
from scripts.train_intent_classifier import apply_args, build_parser, main
from tests.train_helpers import tiny_params, write_processed


def test_tiny_training_beats_chance(tmp_path, params, tiny_encoder_dir, tiny_rows, intents):
    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows, epochs=8)
    result = train_mod.run_training(p, log_to_mlflow=False)
    chance = 1 / len(intents)
    assert result["test"]["accuracy"] > 3 * chance
    assert result["history"][-1]["loss"] < result["history"][0]["loss"]
    model_dir = tmp_path / "model"
    assert {"model.safetensors", "model_config.json", "params.yaml", "training_metrics.json", "tokenizer.json"} <= {
        f.name for f in model_dir.iterdir()}
    saved = json.loads((model_dir / "training_metrics.json").read_text())
    assert saved["test"]["accuracy"] == result["test"]["accuracy"] and saved["realistic_test"]["n"] == len(tiny_rows)
    assert (tmp_path / "checkpoints" / "last" / "trainer_state.pt").is_file()
    assert (tmp_path / "checkpoints" / "best" / "model.safetensors").is_file()


def test_resume_after_kill_mid_epoch_matches_uninterrupted_run(tmp_path, params, tiny_encoder_dir, tiny_rows, monkeypatch):
    """Kill right after the first mid-epoch checkpoint, resume: only the remaining steps are trained,
    to the same step count and the same final weights."""
    full = train_mod.run_training(tiny_params(params, tmp_path / "full", tiny_encoder_dir, tiny_rows, epochs=2),
                                  log_to_mlflow=False)

    p = tiny_params(params, tmp_path / "killed", tiny_encoder_dir, tiny_rows, epochs=2)
    real_save = train_mod.save_checkpoint

    def save_then_die(path, *args):
        real_save(path, *args)
        progress = args[-1]
        if path.name == "last" and progress["position"] not in (0,) and progress["epoch"] == 1:
            raise KeyboardInterrupt("simulated kill in the middle of epoch 2")

    monkeypatch.setattr(train_mod, "save_checkpoint", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_mod.run_training(p, log_to_mlflow=False)
    monkeypatch.setattr(train_mod, "save_checkpoint", real_save)
    state = torch.load(tmp_path / "killed" / "checkpoints" / "last" / "trainer_state.pt", weights_only=True)
    assert state["progress"]["epoch"] == 1 and 0 < state["progress"]["position"]  # really mid-epoch

    optimizer_steps = []
    real_step = train_mod.optimizer_step
    monkeypatch.setattr(train_mod, "optimizer_step", lambda *args: (optimizer_steps.append(1), real_step(*args)))
    resumed = train_mod.run_training(p, resume=True, log_to_mlflow=False)
    # only the batches after the checkpoint were trained again (a rerun from scratch trains them all)
    assert len(optimizer_steps) == full["global_step"] - state["progress"]["global_step"]
    assert resumed["global_step"] == full["global_step"]
    assert resumed["epochs_run"] == full["epochs_run"] == 2
    a = load_file(str(tmp_path / "full" / "checkpoints" / "last" / "model.safetensors"))
    b = load_file(str(tmp_path / "killed" / "checkpoints" / "last" / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert resumed["best_val_f1"] == full["best_val_f1"]


def test_resume_without_checkpoint_is_a_clear_error(tmp_path, params, tiny_encoder_dir, tiny_rows):
    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        train_mod.run_training(p, resume=True, log_to_mlflow=False)


def test_mlflow_run_records_params_metrics_tags_and_model(tmp_path, params, tiny_encoder_dir, tiny_rows):
    import mlflow

    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows, epochs=2, early_stopping_patience=1)
    seen = []
    result = train_mod.run_training(p, output_dir=tmp_path / "out", on_epoch_end=lambda e, m: seen.append((e, m["weighted_f1"])))
    assert [e for e, _ in seen] == list(range(result["epochs_run"]))
    run = mlflow.MlflowClient().get_run(result["run_id"])
    assert run.info.status == "FINISHED"
    assert run.data.params["model.pooling"] == p["model"]["pooling"]
    assert len(run.data.tags["data_hash"]) == 64 and "git_commit" in run.data.tags
    assert "test_accuracy" in run.data.metrics and "realistic_test_accuracy" in run.data.metrics
    history = mlflow.MlflowClient().get_metric_history(result["run_id"], "val_weighted_f1")
    assert len(history) == result["epochs_run"]
    artifacts = {a.path for a in mlflow.MlflowClient().list_artifacts(result["run_id"], "model")}
    assert "model/model.safetensors" in artifacts and "model/model_config.json" in artifacts
    assert (tmp_path / "out_checkpoints" / "last").is_dir()  # explicit output dir: checkpoints beside it


def test_bad_row_named_with_file_and_line(tmp_path, params, tiny_rows):
    write_processed(tmp_path, tiny_rows[:3])
    lines = (tmp_path / "train.jsonl").read_text().splitlines()
    lines[1] = json.dumps({"text": "x", "intent": "astrology", "complexity": "simple", "complexity_score": 0.1})
    (tmp_path / "train.jsonl").write_text("\n".join(lines))
    with pytest.raises(ValueError, match=r"train.jsonl:2: field 'intent' 'astrology'"):
        read_jsonl_split(tmp_path / "train.jsonl", params["intents"], params["complexity_levels"])


def test_length_bucketing_is_deterministic_complete_and_groups_lengths():
    lengths = [5 + (i * 37) % 90 for i in range(1000)]
    a = length_bucketed_batches(lengths, 16, seed=1, epoch=0)
    assert a == length_bucketed_batches(lengths, 16, seed=1, epoch=0)
    assert a != length_bucketed_batches(lengths, 16, seed=1, epoch=1)
    assert sorted(i for b in a for i in b) == list(range(1000))
    spread = sum(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in a) / len(a)
    assert spread < 10  # random batches would spread ~80 tokens
    r0 = length_bucketed_batches(lengths, 16, seed=1, epoch=0, rank=0, world_size=2)
    r1 = length_bucketed_batches(lengths, 16, seed=1, epoch=0, rank=1, world_size=2)
    assert len(r0) == len(r1) and not {i for b in r0 for i in b} & {i for b in r1 for i in b}


def test_cli_overrides_and_refuses_bad_config(tmp_path, capsys, params):
    args = build_parser().parse_args(["--epochs", "3", "--pooling", "max", "--seed", "7"])
    p = apply_args(params, args)
    assert p["train"]["epochs"] == 3 and p["model"]["pooling"] == "max" and p["seed"] == 7
    assert p["train"]["batch_size"] == params["train"]["batch_size"]
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--pooling", "sum"])
    with pytest.raises(SystemExit) as exc:
        main(["--params", str(tmp_path / "missing.yaml")])
    assert exc.value.code == 2
    assert "missing.yaml" in capsys.readouterr().err
