"""Drift statistics, verdicts and report outputs on synthetic distributions."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.monitoring.drift import (
    Snapshot,
    Thresholds,
    category_counts,
    chi2_test,
    compare,
    js_distance,
    psi,
    select_window,
    snapshot_from_log,
)
from pipeline.monitoring.drift_report import plot_png, write_documents_of, write_prometheus

INTENTS = ["a", "b", "c", "d"]
TH = Thresholds(psi=0.2, ks_alpha=0.01, chi2_alpha=0.01, js_distance=0.1, bins=10)


def _snapshot(rng, n, *, length_shift=0.0, intent_p=(0.25, 0.25, 0.25, 0.25), conf_a=8.0):
    return Snapshot(
        numeric={
            "word_count": rng.poisson(20 + length_shift, n).astype(float),
            "question_marks": rng.binomial(1, 0.3, n).astype(float),
            "confidence": rng.beta(conf_a, 1.5, n),
        },
        intents=list(rng.choice(INTENTS, size=n, p=intent_p)),
    )


def test_psi_zero_for_identical_and_large_for_shifted():
    rng = np.random.default_rng(0)
    ref = rng.normal(0, 1, 5000)
    assert psi(ref, ref) == pytest.approx(0.0, abs=1e-9)
    assert psi(ref, rng.normal(0, 1, 1000)) < 0.05
    assert psi(ref, rng.normal(1, 1, 1000)) > 0.5


def test_psi_handles_discrete_and_constant_features():
    ref = np.zeros(1000)
    assert psi(ref, np.zeros(100)) == pytest.approx(0.0, abs=1e-9)
    assert psi(ref, np.ones(100)) > 1.0  # everything moved to a bin the reference never used
    with pytest.raises(ValueError, match="non-empty"):
        psi(np.array([]), np.ones(3))


def test_intent_tests():
    ref = category_counts(["a"] * 50 + ["b"] * 50, INTENTS)
    assert ref.tolist() == [50, 50, 0, 0]
    assert chi2_test(ref, ref)[1] == pytest.approx(1.0)
    assert js_distance(ref, ref) == pytest.approx(0.0, abs=1e-9)
    shifted = category_counts(["a"] * 90 + ["b"] * 10, INTENTS)
    assert chi2_test(ref, shifted)[1] < 1e-6
    assert js_distance(ref, shifted) > 0.3
    with pytest.raises(ValueError, match="unknown intent 'zz'"):
        category_counts(["zz"], INTENTS)


def test_same_distribution_not_flagged_and_each_shift_is():
    rng = np.random.default_rng(1)
    ref = _snapshot(rng, 2000)
    same = compare(ref, _snapshot(rng, 500), INTENTS, TH)
    assert not same["drift"]
    longer = compare(ref, _snapshot(rng, 500, length_shift=10), INTENTS, TH)
    assert longer["data_drift"] and not longer["output_drift"]
    assert [c["name"] for c in longer["numeric"] if c["drift"]] == ["word_count"]
    mix = compare(ref, _snapshot(rng, 500, intent_p=(0.7, 0.1, 0.1, 0.1)), INTENTS, TH)
    assert mix["intent"]["drift"] and mix["output_drift"] and not mix["data_drift"]
    unsure = compare(ref, _snapshot(rng, 500, conf_a=2.0), INTENTS, TH)
    conf = next(c for c in unsure["numeric"] if c["name"] == "confidence")
    assert conf["kind"] == "output" and conf["drift"] and unsure["output_drift"]


def test_significant_but_immaterial_shift_does_not_alarm():
    rng = np.random.default_rng(2)
    ref = _snapshot(rng, 20000)
    tiny_shift = compare(ref, _snapshot(rng, 20000, length_shift=0.5), INTENTS, TH)
    col = next(c for c in tiny_shift["numeric"] if c["name"] == "word_count")
    assert col["ks_pvalue"] < TH.ks_alpha  # significant with 20k rows ...
    assert col["psi"] < TH.psi and not col["drift"]  # ... but not material


def _record(i, version="1", **kw):
    rec = {"ts": f"2025-01-01T00:00:{i:02d}.000+00:00", "model_version": version, "intent": "a", "confidence": 0.9,
           "complexity": {"level": "simple", "score": 0.2}, "text_chars": 10 + i, "features": {"word_count": 3.0}}
    rec.update(kw)
    return rec


def test_select_window_newest_records_of_the_main_version():
    records = [_record(i) for i in range(10)] + [_record(i, version="2") for i in range(3)]
    window, version = select_window(reversed(records), max_records=4)
    assert version == "1"
    assert [r["text_chars"] for r in window] == [16, 17, 18, 19]
    window, version = select_window(records, max_records=100, model_version="2")
    assert len(window) == 3
    with pytest.raises(ValueError, match="record 1 lacks"):
        select_window([{"ts": "x"}], 10)


def test_snapshot_from_log_uses_logged_features():
    snap = snapshot_from_log([_record(i) for i in range(5)], ["word_count", "not_logged"])
    assert sorted(snap.numeric) == ["complexity_score", "confidence", "text_chars", "word_count"]
    assert snap.numeric["text_chars"].tolist() == [10, 11, 12, 13, 14]
    assert len(snap) == 5


def test_report_outputs(tmp_path):
    rng = np.random.default_rng(3)
    ref, cur = _snapshot(rng, 1000), _snapshot(rng, 300, length_shift=10)
    report = {"model_version": "7", "reference_source": "val.jsonl", **compare(ref, cur, INTENTS, TH)}
    png = plot_png(ref, cur, report, tmp_path / "r.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md, page = write_documents_of(report, tmp_path, "r", "r.png")
    assert "| word_count | data |" in md.read_text() and "**DRIFT**" in md.read_text()
    html = page.read_text()  # self-contained: the PNG inside, no link to a file next to it
    assert "<td>word_count</td>" in html and "<b>DRIFT</b>" in html
    assert "data:image/png;base64," in html and "src='r.png'" not in html
    prom = write_prometheus(report, tmp_path / "drift.prom").read_text()
    assert 'intent_drift_alarm{check="data",model_version="7"} 1.0' in prom
    assert 'intent_drift_alarm{check="output",model_version="7"} 0.0' in prom
    assert 'intent_drift_psi{column="word_count",model_version="7"}' in prom
    assert "intent_drift_window_records" in prom


def test_snapshot_json_round_trip():
    rng = np.random.default_rng(4)
    snap = _snapshot(rng, 20)
    snap.meta = {"model_digest": "abc"}
    back = Snapshot.from_json(snap.to_json())
    assert back.intents == snap.intents and back.meta == snap.meta
    np.testing.assert_allclose(back.numeric["confidence"], snap.numeric["confidence"], atol=1e-6)


def test_simulation_flags_shifts_and_measures_false_positives(tiny_rows, intents):
    from pipeline.monitoring.drift import snapshot_from_predictions
    from pipeline.monitoring.drift_simulation import add_typos, join_prompts, simulate

    label = {r["text"]: r["intent"] for r in tiny_rows}

    def predict(texts):  # a stand-in model: right on known prompts, confident when the text is clean
        out = []
        for t in texts:
            intent = label.get(t, intents[len(t) % len(intents)])
            conf = 0.95 if t in label else 0.4
            out.append({"intent": intent, "confidence": conf, "complexity": {"level": "simple", "score": min(1, len(t) / 300)}})
        return out

    texts = [r["text"] for r in tiny_rows] * 20  # 600 rows of one distribution
    reference = snapshot_from_predictions(texts, predict(texts))
    th = Thresholds(psi=0.2, ks_alpha=0.01, chi2_alpha=0.01, js_distance=0.1, bins=10)
    res = simulate(reference, texts, predict, intents, th, window=200, seeds=20, shift_seeds=5,
                   realistic_texts=[t.upper() + "!!" for t in texts[:100]])
    assert res["same_distribution"]["rate_any"] == 0.0
    for name in ("intent_mix", "long_prompts", "typos", "realistic"):
        assert res["shifts"][name]["rate_any"] == 1.0, name
    assert res["shifts"]["intent_mix"]["rate_intent"] == 1.0
    assert len(join_prompts(["a b", "c", "d e f"], 2, 0)) == 3
    assert add_typos(["hello"], 0.0, 0) == ["hello"]


@pytest.fixture(scope="module")
def untrained_model_dir(tmp_path_factory, params, tiny_encoder_dir):
    """A servable model directory (random heads on the tiny encoder): enough for the drift plumbing."""
    from model_src.features import FEATURE_NAMES
    from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

    model = IntentClassifier.from_encoder(tiny_encoder_dir, intents=params["intents"],
                                          complexity_levels=params["complexity_levels"], feature_names=FEATURE_NAMES,
                                          max_length=32, base=str(tiny_encoder_dir))
    out = tmp_path_factory.mktemp("model") / "model"
    model.save_pretrained(out, tokenizer=load_tokenizer(tiny_encoder_dir, 32))
    return out


def _log_traffic(path, model_dir, texts):
    from model_src.features import FEATURE_NAMES, extract_features
    from model_src.prediction_log import PredictionLogger
    from pipeline.modeling.predict import Predictor

    logger = PredictionLogger(path)
    feats = extract_features(texts)
    for text, pred, f in zip(texts, Predictor(model_dir).predict(texts), feats, strict=True):
        logger.log(text=text, model_version="1", intent=pred["intent"], confidence=pred["confidence"],
                   complexity=pred["complexity"], probabilities=pred["probabilities"],
                   features=dict(zip(FEATURE_NAMES, f.tolist(), strict=True)))
    logger.close()


def test_make_drift_cli_end_to_end(tmp_path, untrained_model_dir, tiny_rows, capsys):
    import json

    from scripts.drift_report import main as drift_main

    reference = tmp_path / "reference.jsonl"
    reference.write_text("".join(json.dumps(r) + "\n" for r in tiny_rows * 10), encoding="utf-8")
    texts = [r["text"] for r in tiny_rows]
    _log_traffic(tmp_path / "same" / "p.jsonl", untrained_model_dir, texts * 5)
    _log_traffic(tmp_path / "long" / "p.jsonl", untrained_model_dir,
                 [" ".join(texts[i:i + 4]) + " Thanks!" for i in range(len(texts))] * 5)
    common = ["--model-dir", str(untrained_model_dir), "--reference-data", str(reference), "--fail-on-drift"]
    assert drift_main(["--log", str(tmp_path / "same"), "--out-dir", str(tmp_path / "out1"), *common]) == 0
    out1 = tmp_path / "out1"
    assert {"drift_report.md", "drift_report.html", "drift_report.png", "drift.prom", "reference.json", "drift_report.json"} <= {
        f.name for f in out1.iterdir()}
    assert drift_main(["--log", str(tmp_path / "long"), "--out-dir", str(out1), *common]) == 3  # cached reference reused
    assert "chars_log" in capsys.readouterr().out
    assert drift_main(["--log", str(tmp_path / "missing"), "--out-dir", str(out1), *common]) == 2
