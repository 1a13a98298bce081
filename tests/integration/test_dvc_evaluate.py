"""DVC as its users use it, on tiny data and a tiny encoder in a copy of the project: `dvc repro
evaluate` runs generate -> prepare -> train -> evaluate and records them in dvc.lock, the workspace
is then up to date (evaluate's calibration.json does not dirty train's output), `dvc metrics show`
has accuracy, weighted F1 and ECE for every set, `dvc plots show` draws the three plot folders for every set, and
`dvc exp run -S train.learning_rate=...` retrains so that `dvc metrics diff` / `dvc params diff` see it."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.dvc_helpers import DVC, make_dvc_repo, run

pytestmark = pytest.mark.integration

SETS = ("test", "realistic_test", "realistic_dev", "realistic_multilingual")


@pytest.fixture
def tiny_repo(tmp_path, tiny_encoder_dir):
    def shrink(params: dict) -> None:
        params["generate"]["num_samples"] = 300
        params["model"].update(base=str(tiny_encoder_dir), max_length=32)
        params["train"].update(epochs=1, batch_size=16, num_threads=1, amp=False, checkpoint_every_steps=1000)
        params["eval"]["latency_samples"] = 0

    repo = tmp_path / "repo"
    return repo, make_dvc_repo(repo, shrink)


def test_evaluate_stage_metrics_plots_and_an_experiment(tiny_repo, tmp_path):
    repo, env = tiny_repo
    first = run([DVC, "repro", "evaluate"], repo, env, timeout=900)
    for stage in ("generate", "prepare", "train", "evaluate"):
        assert f"Running stage '{stage}'" in first
    lock = yaml.safe_load((repo / "dvc.lock").read_text(encoding="utf-8"))
    assert {"train", "evaluate"} <= set(lock["stages"])
    assert (repo / "models" / "intent_classifier" / "calibration.json").is_file()
    assert "up to date" in run([DVC, "status"], repo, env).lower()

    shown = json.loads(run([DVC, "metrics", "show", "--json"], repo, env))
    (workspace,) = shown.values()  # one revision: the workspace
    figures = workspace["data"]["evaluation_results/dvc/metrics.json"]["data"]
    assert set(figures) == set(SETS)
    for name in SETS:
        assert {"accuracy", "f1_weighted", "ece"} <= set(figures[name])
        assert 0.0 <= figures[name]["accuracy"] <= 1.0

    html = tmp_path / "plots"
    run([DVC, "plots", "show", "-o", str(html)], repo, env)
    page = (html / "index.html").read_text(encoding="utf-8")
    for folder in ("confusion", "reliability", "per_intent_f1"):
        for name in SETS:
            assert f"evaluation_results/dvc/{folder}/{name}.csv" in page

    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "baseline"], repo, env)
    run([DVC, "exp", "run", "-S", "train.learning_rate=0.003"], repo, env, timeout=900)
    params_diff = json.loads(run([DVC, "params", "diff", "--json"], repo, env))
    assert params_diff["params.yaml"]["train.learning_rate"]["new"] == 0.003
    metrics_diff = json.loads(run([DVC, "metrics", "diff", "--json"], repo, env))
    changed = metrics_diff["evaluation_results/dvc/metrics.json"]
    assert any(change.get("diff") for change in changed.values()), changed
    assert "0.003" in run([DVC, "exp", "show", "--json"], repo, env)
