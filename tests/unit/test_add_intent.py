"""Adding an 11th intent: params growth, head growth keeping old rows, end to end through the CLI on tiny data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

import pipeline.modeling.train as train_mod
from model_src.intent_classifier_model import IntentClassifier
from pipeline.config import DEFAULT_PARAMS_PATH, load_params
from pipeline.modeling.predict import Predictor
from pipeline.modeling.warm_start import init_from_champion
from pipeline.monitoring.add_intent import grown_params, write_intent_into_params_file
from scripts.add_intent import main
from tests.train_helpers import tiny_params

NEW = "email_writing"
EMAILS = [
    "Write an email to my landlord asking to fix the heating",
    "draft a polite email declining the meeting invite",
    "Compose an email to the team announcing the new office hours",
    "write a follow-up email after my job interview",
    "Email my professor asking for a deadline extension",
    "draft an email to a customer apologising for the late delivery",
    "Write a short email thanking my colleague for the help",
    "compose an out of office email reply for next week",
    "Write an email requesting a refund for a broken kettle",
    "draft an email inviting neighbours to a street party",
    "Write an email to HR about my parental leave dates",
    "compose a cold email to a potential client about our design services",
]


def test_grown_params_and_bad_names(params):
    p = grown_params(params, NEW, "Wants an email drafted.")
    assert p["intents"][-1] == NEW and len(p["intents"]) == len(params["intents"]) + 1
    assert p["techniques"][NEW] == {lv: [] for lv in params["complexity_levels"]}
    assert NEW not in params["intents"]  # the original is untouched
    with pytest.raises(ValueError, match="already exists"):
        grown_params(params, params["intents"][0], "x")
    with pytest.raises(ValueError, match="lower-case"):
        grown_params(params, "Email Writing", "x")


def test_params_file_edited_in_place_keeps_comments(tmp_path, params):
    path = tmp_path / "params.yaml"
    shutil.copy(DEFAULT_PARAMS_PATH, path)
    before = path.read_text()
    write_intent_into_params_file(path, NEW, "Wants an email drafted.")
    after = load_params(path)
    assert after["intents"] == params["intents"] + [NEW]
    assert after["intent_definitions"][NEW] == "Wants an email drafted."
    assert after["techniques"][NEW] == {lv: [] for lv in params["complexity_levels"]}
    assert after["monitor"] == params["monitor"] and after["serve"] == params["serve"]
    kept = [line for line in before.splitlines() if line.lstrip().startswith("#")]
    assert all(line in path.read_text().splitlines() for line in kept)


@pytest.mark.parametrize(
    "definition",
    [
        "a: b\n- c",  # a mapping line and a list item: unquoted they would become params of their own
        "Wants an email.\nintents: []\nserve: {model_name: evil}",
        "'quoted' \"double\" # not a comment: & * ! | > % @ `",
        "$(touch /tmp/should_not_exist)",
        "  leading spaces, trailing spaces  ",
    ],
)
def test_definition_is_written_as_text_and_cannot_inject_yaml(tmp_path, params, definition):
    path = tmp_path / "params.yaml"
    shutil.copy(DEFAULT_PARAMS_PATH, path)
    before = load_params(path)
    write_intent_into_params_file(path, NEW, definition)
    after = load_params(path)
    assert after["intent_definitions"][NEW] == definition
    assert after == grown_params(before, NEW, definition)  # nothing else changed


@pytest.fixture(scope="module")
def champion(tmp_path_factory, params, tiny_encoder_dir, tiny_rows):
    tmp = tmp_path_factory.mktemp("champion")
    p = tiny_params(params, tmp, tiny_encoder_dir, tiny_rows, epochs=6)
    train_mod.run_training(p, log_to_mlflow=False)
    return p, tmp / "model"


@pytest.mark.slow
def test_grown_head_keeps_old_rows_and_old_logits(champion, tiny_rows):
    p, champ_dir = champion
    grown = grown_params(p, NEW, "x")
    cfg = json.loads((champ_dir / "model_config.json").read_text())
    model = train_mod.build_model(grown, Path(p["model"]["base"]), {"names": cfg["feature_names"], "mean": None, "std": None})
    init_from_champion(model, champ_dir)
    old = IntentClassifier.from_pretrained(champ_dir).eval()
    model.eval()
    torch.testing.assert_close(model.intent_head.weight[:-1], old.intent_head.weight)
    predictor = Predictor(champ_dir)
    enc = predictor.tokenizer([r["text"] for r in tiny_rows[:4]], padding=True, return_tensors="pt")
    from model_src.features import extract_features

    feats = torch.from_numpy(extract_features([r["text"] for r in tiny_rows[:4]]))
    with torch.no_grad():
        new_logits = model(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids"), feats)[0]
        old_logits = old(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids"), feats)[0]
    torch.testing.assert_close(new_logits[:, :-1], old_logits)  # old intents: the champion's function


@pytest.mark.slow
def test_add_11th_intent_end_to_end(champion, tmp_path, capsys):
    """Through the CLI: params file grown in place, report with the frozen test and realistic comparisons."""
    p, champ_dir = champion
    data = tmp_path / "emails.jsonl"
    data.write_text("".join(json.dumps({"text": t, "intent": NEW}) + "\n" for t in EMAILS)
                    + json.dumps({"text": "", "intent": NEW}) + "\n", encoding="utf-8")
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(p, sort_keys=False), encoding="utf-8")
    code = main(["--params", str(params_file), "--name", NEW, "--data", str(data), "--champion", str(champ_dir),
                 "--out-dir", str(tmp_path / "run"), "--write-params", "--no-mlflow"])
    report = json.loads((tmp_path / "run" / "add_intent_report.json").read_text())
    assert [r["line"] for r in report["rejects"]] == [len(EMAILS) + 1]  # the empty text, by line
    assert sum(report["new_intent_rows"].values()) == len(EMAILS)
    assert report["new_intent_rows"]["test"] >= 1 and report["new_intent_rows"]["val"] >= 1
    model_cfg = json.loads((tmp_path / "run" / "model" / "model_config.json").read_text())
    assert model_cfg["intents"] == p["intents"] + [NEW]
    preds = Predictor(tmp_path / "run" / "model").predict(EMAILS[:2])
    assert set(preds[0]["probabilities"]) == set(p["intents"]) | {NEW}
    old = report["old_intents"]
    assert set(old["f1_drops"]) == set(p["intents"]) and old["max_allowed_drop"] == 0.02
    assert code == (0 if old["within_limit"] else 1) and 0.0 <= report["new_intent_f1"] <= 1.0
    real = report["old_intents_realistic"]  # tiny params point realistic_test at the 30 tiny rows
    assert real["champion"]["n"] == real["new_model"]["n"] == 30 and set(real["f1_drops"]) == set(p["intents"])
    assert 0 <= real["predicted_as_new_intent"] <= 30
    out = capsys.readouterr().out
    assert "frozen test split" in out and "realistic test set (30 rows" in out
    assert load_params(params_file)["intents"][-1] == NEW
    assert load_params(tmp_path / "run" / "params.yaml")["intents"][-1] == NEW
