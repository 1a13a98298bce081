"""The prepare stage end to end on a small file: outputs, accounting, reports, strict mode, CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT, merged
from pipeline.data.clean import dedupe_key
from pipeline.data.ingest import DataValidationError, read_jsonl, write_jsonl
from pipeline.data.prepare import prepare

SUBJECTS = [
    "",
    " for my team",
    " about space",
    " in detail",
    " today",
    " quickly",
    " for a beginner",
    " at work",
]


@pytest.fixture
def workdir(tmp_path, params):
    """Params pointing every data path into tmp_path, and a raw file with known problems."""
    cfg = merged(
        params,
        {"paths": {**params["paths"], "raw_data": str(tmp_path / "raw.jsonl"), "interim_dir": str(tmp_path / "interim"),
                   "processed_dir": str(tmp_path / "processed")}},
    )  # fmt: skip
    return tmp_path, cfg


def _raw_rows(tiny_rows) -> list:
    rows = [{**r, "text": r["text"] + s} for s in SUBJECTS for r in tiny_rows]  # 240 distinct rows
    rows.append(dict(rows[0]))  # exact duplicate
    rows.append({**rows[1], "text": rows[1]["text"].upper() + "  "})  # duplicate after case/space folding
    rows.append({"text": "Is this a plan or a question?", "intent": "task_planning"})  # conflicting pair
    rows.append({"text": "is this a plan or a question?", "intent": "question_answering"})
    rows.append({"text": "hello", "intent": "smalltalk"})  # unknown label
    rows.append({"text": "\x00\x01", "intent": "conversation"})  # empty after cleaning
    return rows


def test_prepare_writes_splits_stats_and_reports(workdir, tiny_rows, params):
    tmp, cfg = workdir
    raw = _raw_rows(tiny_rows)
    write_jsonl(tmp / "raw.jsonl", raw)
    stats = prepare(cfg)

    assert stats["rows"] == {"read": 246, "kept": 240, "rejected": 2, "duplicates": 2, "conflicts": 2}
    splits = {name: read_jsonl(tmp / "processed" / f"{name}.jsonl") for name in ("train", "val", "test")}
    assert {name: len(rows) for name, rows in splits.items()} == stats["splits"]
    originals = [r for r in splits["train"] if not r.get("augmented")]
    assert len(originals) + len(splits["val"]) + len(splits["test"]) == 240
    assert len(splits["train"]) == len(originals) + stats["augmentation"]["added"]
    assert stats["augmentation"]["added"] > 0.8 * len(
        originals
    )  # multiplier 2, a few variants may be dropped
    assert not any(r.get("augmented") for r in splits["val"] + splits["test"])
    for rows in splits.values():
        for row in rows:
            assert row["intent"] in params["intents"] and row["complexity"] in params["complexity_levels"]
            assert 0.0 <= row["complexity_score"] <= 1.0
    train_keys = {dedupe_key(r["text"]) for r in splits["train"]}
    held_out = {dedupe_key(r["text"]) for r in splits["val"] + splits["test"]}
    assert not train_keys & held_out
    assert all(n > 0 for n in stats["per_intent"]["val"].values())  # stratified: every intent in val

    report = read_jsonl(tmp / "interim" / "rejected.jsonl")
    assert len(report) == 6
    reasons = " | ".join(r["reason"] for r in report)
    for part in (
        "unknown intent 'smalltalk'",
        "empty text after cleaning",
        "duplicate of line 1",
        "conflicting labels",
    ):
        assert part in reasons
    assert all(r["file"] == str(tmp / "raw.jsonl") for r in report)
    summary = (tmp / "interim" / "rejected_summary.txt").read_text(encoding="utf-8")
    assert "rows read: 246 = kept 240 + rejected 2 + duplicates 2 + conflicting labels 2" in summary
    assert len(read_jsonl(tmp / "interim" / "clean.jsonl")) == 240
    on_disk = json.loads((tmp / "processed" / "stats.json").read_text(encoding="utf-8"))
    assert on_disk == stats

    again = prepare(cfg)  # same input + seed -> byte-identical outputs
    assert again["outputs_sha256"] == stats["outputs_sha256"]


def test_strict_mode_fails_on_a_bad_row(workdir, tiny_rows):
    tmp, cfg = workdir
    write_jsonl(tmp / "raw.jsonl", _raw_rows(tiny_rows))
    with pytest.raises(DataValidationError, match=r"raw\.jsonl:245: unknown intent 'smalltalk'"):
        prepare(cfg, strict=True)
    with pytest.raises(DataValidationError, match="strict"):
        prepare(merged(cfg, {"data": {"strict": True}}))


def test_nothing_usable_is_an_error(workdir):
    tmp, cfg = workdir
    write_jsonl(tmp / "raw.jsonl", [{"text": "hi", "intent": "nope"}])
    with pytest.raises(DataValidationError, match="no usable rows"):
        prepare(cfg)
    assert "unknown intent 'nope'" in (tmp / "interim" / "rejected_summary.txt").read_text(encoding="utf-8")


def _cli(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "scripts" / "prepare_data.py"), *args],
        capture_output=True, text=True, cwd=cwd, timeout=120,
    )  # fmt: skip


def test_cli_help_input_and_exit_codes(workdir, tiny_rows):
    tmp, cfg = workdir
    assert "--input" in _cli("--help").stdout
    config = tmp / "params.yaml"
    import yaml

    config.write_text(yaml.safe_dump(cfg), encoding="utf-8")
    mine = tmp / "mine.csv"
    lines = (
        ["text,intent"]
        + [f'"{r["text"]}{s}",{r["intent"]}' for s in SUBJECTS for r in tiny_rows]
        + ["oops,unknown"]
    )
    mine.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ok = _cli("--input", str(mine), "--params", str(config))
    assert ok.returncode == 0, ok.stderr
    assert "rows read 241 = kept 240 + rejected 1 + duplicates 0 + conflicting labels 0" in ok.stdout
    strict = _cli("--input", str(mine), "--params", str(config), "--strict")
    assert strict.returncode == 1 and "mine.csv:242: unknown intent 'unknown'" in strict.stderr
    assert _cli("--bogus").returncode == 2
