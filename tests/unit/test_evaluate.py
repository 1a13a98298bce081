"""End to end on a tiny random model and tiny data: report, plots, metrics.json, MLflow, CLI errors."""

from __future__ import annotations

import io
import json

import pytest

from pipeline.config import merged
from pipeline.data.ingest import write_jsonl


@pytest.fixture(scope="module")
def tiny_model_dir(tmp_path_factory, tiny_encoder_dir, params):
    """An untrained classifier on the tiny encoder, saved like training saves it."""
    import torch

    from model_src.features import FEATURE_NAMES
    from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("tiny_model")
    model = IntentClassifier.from_encoder(
        tiny_encoder_dir,
        intents=params["intents"],
        complexity_levels=params["complexity_levels"],
        feature_names=list(FEATURE_NAMES),
        max_length=64,
    )
    model.save_pretrained(out, tokenizer=load_tokenizer(tiny_encoder_dir, 64))
    return out


@pytest.fixture
def eval_params(params, tiny_rows, tmp_path):
    """params pointing every data path and the MLflow store into tmp_path."""
    processed = tmp_path / "processed"
    write_jsonl(processed / "test.jsonl", tiny_rows)
    write_jsonl(processed / "val.jsonl", tiny_rows[::-1])
    write_jsonl(tmp_path / "realistic_test.jsonl", tiny_rows[:20])
    write_jsonl(tmp_path / "realistic_dev.jsonl", tiny_rows[10:])
    write_jsonl(tmp_path / "realistic_multilingual.jsonl", tiny_rows[5:15])
    return merged(
        params,
        {
            "paths": {
                **params["paths"],
                "processed_dir": str(processed),
                "realistic_test": str(tmp_path / "realistic_test.jsonl"),
                "realistic_dev": str(tmp_path / "realistic_dev.jsonl"),
                "realistic_multilingual": str(tmp_path / "realistic_multilingual.jsonl"),
            },
            "mlflow": {
                **params["mlflow"],
                "tracking_uri": f"sqlite:///{tmp_path / 'mlflow.db'}",
                "artifact_location": (tmp_path / "mlartifacts").as_uri(),  # not ./mlruns of the checkout
            },
            "eval": {**params["eval"], "latency_samples": 5, "num_threads": 1},
        },
    )


def test_report_plots_metrics_and_mlflow(tiny_model_dir, eval_params, tmp_path):
    import mlflow

    from pipeline.evaluation.evaluate import EvalConfig, evaluate

    out = tmp_path / "eval"
    res = evaluate(EvalConfig(model_path=str(tiny_model_dir), output_dir=out, realistic=True), eval_params)

    assert list(res["datasets"]) == ["test", "realistic_test", "realistic_dev", "realistic_multilingual"]
    held_out = res["datasets"]["realistic_test"]["invariance"]["held_out"]
    assert held_out["pairs"] == 20 * eval_params["eval"]["invariance"]["modifiers_per_row"]
    assert 0.0 <= held_out["unchanged"] <= 1.0 and res["datasets"]["test"]["invariance"] is None
    assert res["headline"] == "realistic_test"
    for name in res["datasets"]:
        for kind in ("confusion", "roc", "confidence", "reliability"):
            png = out / "plots" / f"{kind}_{name}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert (out / f"predictions_{name}.jsonl").is_file()
    assert (out / "plots" / "per_class_f1.png").is_file()

    saved = json.loads((out / "metrics.json").read_text())
    test = saved["datasets"]["test"]
    assert test["metrics"]["n"] == 30 and 0.0 <= test["metrics"]["accuracy"] <= 1.0
    assert set(test["metrics"]["top_k_accuracy"]) == {"1", "2", "3"}
    assert test["complexity"]["score_mae"] is not None
    assert saved["latency"]["n"] == 5 and saved["model_size"]["total_mb"] > 0
    # temperature fitted on val, stored with the model, NLL on val not worse than before
    cal = json.loads((tiny_model_dir / "calibration.json").read_text())
    assert cal["temperature"] == pytest.approx(saved["calibration"]["temperature"])
    assert cal["nll_after"] <= cal["nll_before"] + 1e-9

    md = (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    assert "realistic_test" in md and "plots/confusion_test.png" in md
    # 4 plots per set and the per-intent F1, all embedded
    assert html.count("data:image/png;base64,") == 4 * len(res["datasets"]) + 1 and "<img" in html and "src='plots/" not in html
    errors = json.loads((out / "error_analysis.json").read_text())
    assert errors["test"]["n"] == 30

    mlflow.set_tracking_uri(eval_params["mlflow"]["tracking_uri"])
    run = mlflow.get_run(res["mlflow_run_id"])
    assert run.data.metrics["eval.test.accuracy"] == pytest.approx(test["metrics"]["accuracy"])


def test_user_file_with_bad_rows_is_reported_not_dropped(tiny_model_dir, eval_params, tmp_path, tiny_rows):
    from pipeline.evaluation.evaluate import EvalConfig, evaluate

    data = tmp_path / "mine.csv"
    lines = (
        ["text,intent"]
        + [f'"{r["text"]}",{r["intent"]}' for r in tiny_rows[:6]]
        + ["hello there,not_an_intent"]
    )
    data.write_text("\n".join(lines) + "\n")
    out = tmp_path / "eval_user"
    cfg = EvalConfig(
        model_path=str(tiny_model_dir),
        output_dir=out,
        data=data,
        calibrate=False,
        log_mlflow=False,
        latency_samples=0,
    )
    res = evaluate(cfg, eval_params)
    assert res["datasets"]["mine"]["metrics"]["n"] == 6
    assert res["datasets"]["mine"]["rejected_rows"] == 1
    reject = json.loads((out / "rejected_mine.jsonl").read_text().splitlines()[0])
    assert reject["line"] == 8 and "not_an_intent" in reject["reason"]


def test_cli_errors_name_the_problem(tiny_model_dir, tmp_path, capsys):
    import importlib.util
    import shutil

    from pipeline.config import PROJECT_ROOT

    spec = importlib.util.spec_from_file_location(
        "evaluate_model", PROJECT_ROOT / "scripts" / "evaluate_model.py"
    )
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    main = cli.main

    broken = tmp_path / "broken_model"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").unlink()
    assert main(["--model-path", str(broken), "--output-dir", str(tmp_path / "o"), "--no-mlflow"]) == 2
    assert "model.safetensors" in capsys.readouterr().err

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"text": "hi", "intent": "greeting"}\n')
    code = main(
        [
            "--model-path",
            str(tiny_model_dir),
            "--data",
            str(bad),
            "--strict",
            "--output-dir",
            str(tmp_path / "o"),
            "--no-mlflow",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and f"{bad}:1" in err and "greeting" in err


def test_live_examples_print_top3_and_complexity(tiny_model_dir):
    from pipeline.evaluation.live_examples import LIVE_PROMPTS, interactive, show_examples
    from pipeline.modeling.predict import Predictor

    predictor = Predictor(tiny_model_dir)
    buf = io.StringIO()
    preds = show_examples(predictor, out=buf)
    text = buf.getvalue()
    assert len(preds) == len(LIVE_PROMPTS) and "top-3:" in text and "complexity:" in text
    assert interactive(predictor, inp=io.StringIO("write a haiku\n\n"), out=io.StringIO()) == 1
