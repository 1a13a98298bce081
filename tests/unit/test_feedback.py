"""Feedback: validation, rolling accuracy per version, McNemar / two-proportion A/B tests."""

from __future__ import annotations

import json
import random

import pytest

from pipeline.monitoring.feedback import (
    accuracy_by_version,
    compare_versions,
    load_feedback,
    mcnemar,
    two_proportion_z,
    wilson_interval,
)
from scripts.feedback_report import main as feedback_main


def _write(path, rows):
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _rows(intents, version, n, accuracy, seed, *, prefix="prompt"):
    rng = random.Random(seed)
    out = []
    for i in range(n):
        true = intents[i % len(intents)]
        wrong = intents[(i + 1) % len(intents)]
        out.append({"text": f"{prefix} {i}", "intent": true, "model_version": version,
                    "predicted": true if rng.random() < accuracy else wrong, "ts": f"2025-01-01T00:{i // 60:02d}:{i % 60:02d}Z"})
    return out


def test_load_feedback_reports_bad_rows_with_line_numbers(tmp_path, intents):
    good = {"text": "hi there", "intent": "conversation", "model_version": 3, "predicted": "conversation"}
    path = _write(tmp_path / "fb.jsonl", [
        good,
        "{not json",
        {"intent": "conversation", "model_version": "3", "predicted": "conversation"},
        {"text": "x", "intent": "dancing", "model_version": "3", "predicted": "conversation"},
        {"text_hash": "abc", "intent": "reasoning", "model_version": "3", "predicted": "reasoning"},
        ["a list"],
    ])
    rows, rejects = load_feedback(path, intents)
    assert [r.line for r in rows] == [1, 5]
    assert rows[0].model_version == "3" and rows[0].correct and rows[1].text_hash == "abc"
    assert [(r["line"], r["reason"].split(":")[0]) for r in rejects] == [
        (2, "bad JSON"), (3, "missing field(s)"), (4, "unknown intent in intent='dancing' (expected one of"),
        (6, "expected a JSON object, got list"),
    ]
    assert "text or text_hash" in rejects[1]["reason"]


def test_rolling_accuracy_per_version(tmp_path, intents):
    rows = _rows(intents, "1", 10, 1.0, 0) + _rows(intents, "2", 6, 0.0, 0)
    rows[0]["predicted"] = intents[5]  # first v1 answer wrong
    fb, _ = load_feedback(_write(tmp_path / "fb.jsonl", rows), intents)
    acc = accuracy_by_version(fb, window=4)
    assert acc["1"]["n"] == 10 and acc["1"]["accuracy"] == pytest.approx(0.9)
    assert acc["1"]["rolling"][:5] == [0.0, 0.5, pytest.approx(2 / 3), 0.75, 1.0]
    assert acc["1"]["window_accuracy"] == 1.0 and acc["1"]["window_n"] == 4
    assert acc["2"]["accuracy"] == 0.0
    lo, hi = acc["2"]["ci95"]
    assert lo == 0.0 and 0.3 < hi < 0.5  # Wilson upper bound for 0/6
    with pytest.raises(ValueError, match="window"):
        accuracy_by_version(fb, 0)


def test_statistics_against_known_values():
    assert wilson_interval(50, 100) == pytest.approx((0.4038, 0.5962), abs=1e-4)
    stat, p, method = mcnemar(30, 10)  # chi2 = (|30-10|-1)^2/40 = 9.025
    assert stat == pytest.approx(9.025) and p == pytest.approx(0.00266, abs=1e-4) and "chi-square" in method
    _, p_exact, method = mcnemar(8, 1)
    assert "exact" in method and p_exact == pytest.approx(0.0390625)
    assert mcnemar(0, 0)[1] == 1.0
    z, p = two_proportion_z(90, 100, 80, 100)
    assert z == pytest.approx(1.98, abs=0.01) and p == pytest.approx(0.0477, abs=1e-3)


def test_paired_ab_detects_a_better_version(tmp_path, intents):
    rows = _rows(intents, "1", 400, 0.80, 1) + _rows(intents, "2", 400, 0.92, 2)  # same prompts: paired
    fb, _ = load_feedback(_write(tmp_path / "fb.jsonl", rows), intents)
    ab = compare_versions(fb, "1", "2", alpha=0.05)
    assert ab["paired"] and ab["n"] == 400 and ab["method"].startswith("mcnemar")
    assert ab["significant"] and ab["verdict"].startswith("version 2 is more accurate")


def test_unpaired_ab_uses_z_test_and_same_accuracy_is_not_significant(tmp_path, intents):
    rows = _rows(intents, "1", 300, 0.9, 3, prefix="a") + _rows(intents, "2", 300, 0.9, 4, prefix="b")
    fb, _ = load_feedback(_write(tmp_path / "fb.jsonl", rows), intents)
    ab = compare_versions(fb, "1", "2", alpha=0.05)
    assert not ab["paired"] and ab["method"] == "two-proportion z-test" and ab["n_a"] == 300
    assert not ab["significant"]
    with pytest.raises(ValueError, match=r"no feedback for model version\(s\) \['9'\]"):
        compare_versions(fb, "1", "9", alpha=0.05)


def test_cli_writes_report_and_gauges(tmp_path, intents, capsys):
    rows = _rows(intents, "1", 200, 0.7, 5) + _rows(intents, "2", 200, 0.95, 6) + ["oops"]
    path = _write(tmp_path / "fb.jsonl", rows)
    assert feedback_main(["--feedback", str(path), "--out-dir", str(tmp_path / "out"), "--window", "50"]) == 0
    out = capsys.readouterr()
    assert "rejected" in out.err and ":401:" in out.err
    assert "A/B" in out.out and "more accurate" in out.out
    prom = (tmp_path / "out" / "feedback.prom").read_text()
    assert 'intent_live_accuracy{model_version="2"}' in prom
    assert (tmp_path / "out" / "feedback_report.png").read_bytes()[:4] == b"\x89PNG"
    page = (tmp_path / "out" / "feedback_report.html").read_text()  # self-contained: the PNG inside
    assert "data:image/png;base64," in page and "src='feedback_report.png'" not in page
    assert "<td>2</td>" in page and "A/B test" in page and "<td>401</td>" in page
    assert feedback_main(["--feedback", str(path), "--out-dir", str(tmp_path / "out"), "--strict"]) == 2
    assert feedback_main(["--feedback", str(tmp_path / "missing.jsonl")]) == 2
