"""Prediction log: sampling, privacy, rotation, bounded queue, reading back."""

from __future__ import annotations

import json
import threading

import pytest

from model_src.prediction_log import (
    PredictionLogger,
    RotatingJsonlWriter,
    load_hash_key,
    log_files,
    read_prediction_log,
    text_hash,
)


def _log_one(logger: PredictionLogger, text: str = "Write a poem", **kw) -> bool:
    args = dict(
        text=text,
        model_version="3",
        intent="creative_writing",
        confidence=0.912345678,
        complexity={"level": "simple", "score": 0.1234567},
        features={"char_len": 12.0},
        probabilities={"creative_writing": 0.912345678, "conversation": 0.087654},
    )
    args.update(kw)
    return logger.log(**args)


def test_record_fields_hash_only_by_default(tmp_path):
    logger = PredictionLogger(tmp_path / "p.jsonl", sample_rate=1.0)
    assert _log_one(logger, language="en")
    logger.close()
    (rec,) = list(read_prediction_log(tmp_path / "p.jsonl"))
    assert "text" not in rec
    assert rec["text_hash"] == text_hash("  write   a POEM ")
    assert rec["model_version"] == "3"
    assert rec["intent"] == "creative_writing"
    assert rec["confidence"] == 0.9123  # rounded to 4 decimals
    assert rec["complexity"] == {"level": "simple", "score": 0.1235}
    assert rec["features"] == {"char_len": 12.0}
    assert rec["language"] == "en"
    assert rec["text_chars"] == len("Write a poem")
    assert rec["ts"].endswith("+00:00")


def test_raw_text_only_when_enabled(tmp_path):
    logger = PredictionLogger(tmp_path / "p.jsonl", log_raw_text=True)
    _log_one(logger, text="secret prompt")
    logger.close()
    (rec,) = list(read_prediction_log(tmp_path))
    assert rec["text"] == "secret prompt"


def test_sampling_rate_is_respected(tmp_path):
    logger = PredictionLogger(tmp_path / "p.jsonl", sample_rate=0.2, seed=1)
    for i in range(2000):
        _log_one(logger, text=f"prompt {i}")
    logger.close()
    stats = logger.stats()
    assert stats["seen"] == 2000
    assert stats["written"] + stats["sampled_out"] == 2000
    assert 300 < stats["written"] < 500  # 400 expected; binomial sd ~18
    assert len(list(read_prediction_log(tmp_path))) == stats["written"]


def test_full_queue_drops_and_counts_without_blocking(tmp_path, monkeypatch):
    logger = PredictionLogger(tmp_path / "p.jsonl", queue_size=5)
    gate = threading.Event()
    original = logger._writer.write_lines

    def slow_write(lines):
        gate.wait(5)
        original(lines)

    monkeypatch.setattr(logger._writer, "write_lines", slow_write)
    results = [_log_one(logger, text=f"p{i}") for i in range(50)]
    stats = logger.stats()
    assert results.count(False) == stats["dropped"] > 0
    gate.set()
    logger.close()
    stats = logger.stats()
    assert stats["written"] == results.count(True)
    assert stats["written"] + stats["dropped"] == 50


def test_pid_placeholder(tmp_path):
    import os

    logger = PredictionLogger(tmp_path / "predictions-{pid}.jsonl")
    logger.close()
    assert logger.path.name == f"predictions-{os.getpid()}.jsonl"


def test_rotation_keeps_backups_and_reader_sees_all_in_order(tmp_path):
    writer = RotatingJsonlWriter(tmp_path / "p.jsonl", max_bytes=100, backup_count=3)
    lines = [json.dumps({"i": i, "pad": "x" * 10}) for i in range(12)]  # 29-30 bytes each -> 3 per file
    for line in lines:
        writer.write_lines([line])
    writer.close()
    names = sorted(f.name for f in log_files(tmp_path))
    assert names == ["p.jsonl", "p.jsonl.1", "p.jsonl.2", "p.jsonl.3"]
    assert all(f.stat().st_size <= 100 for f in log_files(tmp_path))
    assert [r["i"] for r in read_prediction_log(tmp_path)] == list(range(12))  # 4 files x 3, oldest first


def test_rotation_with_no_backups_truncates(tmp_path):
    writer = RotatingJsonlWriter(tmp_path / "p.jsonl", max_bytes=50, backup_count=0)
    for i in range(5):
        writer.write_lines([json.dumps({"i": i, "pad": "y" * 20})])
    writer.close()
    assert [f.name for f in log_files(tmp_path)] == ["p.jsonl"]
    assert [r["i"] for r in read_prediction_log(tmp_path)] == [4]


def test_reader_names_file_and_line_and_skips_partial_last_line(tmp_path):
    f = tmp_path / "p.jsonl"
    f.write_text('{"a": 1}\n{"a": 2}\n{"a": ', encoding="utf-8")
    assert [r["a"] for r in read_prediction_log(f)] == [1, 2]
    f.write_text('{"a": 1}\nnot json\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"p\.jsonl:2: not valid JSON"):
        list(read_prediction_log(f))


def test_bad_arguments_and_from_params(tmp_path, params, monkeypatch):
    with pytest.raises(ValueError, match="sample_rate"):
        PredictionLogger(tmp_path / "p.jsonl", sample_rate=1.5)
    monkeypatch.setenv("BETTERPROMPTS_PREDICTION_LOG", str(tmp_path / "env-{pid}.jsonl"))
    logger = PredictionLogger.from_params(params)
    assert logger is not None and logger.path.parent == tmp_path
    assert logger.log_raw_text == bool(params["monitor"]["log_raw_text"])
    logger.close()
    off = {"monitor": {"prediction_log": {"enabled": False}}}
    assert PredictionLogger.from_params(off) is None


def test_log_never_raises_on_unserialisable_values(tmp_path):
    logger = PredictionLogger(tmp_path / "p.jsonl")
    assert not _log_one(logger, extra_obj=object())  # refused and counted, the request goes on
    assert _log_one(logger)
    logger.close()
    assert logger.stats()["errors"] == 1 and logger.stats()["written"] == 1


# --- privacy: keyed hash, private files, retention ----------------------------------------------


def test_text_hash_is_keyed_and_not_a_bare_sha256(tmp_path):
    import hashlib

    key_a, key_b = load_hash_key(tmp_path / "a.key"), load_hash_key(tmp_path / "b.key")
    assert key_a != key_b
    assert text_hash("Write a poem", key_a) != text_hash("Write a poem", key_b)
    assert text_hash("Write a poem", key_a) == text_hash("  write   a POEM ", key_a)
    assert text_hash("Write a poem") != hashlib.sha256(b"write a poem").hexdigest()  # a dictionary cannot reverse it


def test_hash_key_is_generated_once_private_and_reused(tmp_path):
    path = tmp_path / "secrets" / "log.key"
    key = load_hash_key(path)
    assert (path.stat().st_mode & 0o777, path.parent.stat().st_mode & 0o777) == (0o600, 0o700)
    load_hash_key.cache_clear()
    assert load_hash_key(path) == key  # read back, not regenerated
    assert list(path.parent.iterdir()) == [path]  # no temp file left behind


def test_log_files_are_private(tmp_path):
    logger = PredictionLogger(tmp_path / "logs" / "p.jsonl")
    _log_one(logger)
    logger.close()
    assert (tmp_path / "logs" / "p.jsonl").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "logs").stat().st_mode & 0o777 == 0o700


def _age(path, seconds: float) -> None:
    import os
    import time

    then = time.time() - seconds
    os.utime(path, (then, then))


def test_retention_purges_old_files_of_every_worker(tmp_path):
    hour = 3600
    logger = PredictionLogger(tmp_path / "predictions-{pid}.jsonl", retention_seconds=10 * hour,
                              raw_text_retention_seconds=2 * hour)
    files = {
        "predictions-1.jsonl": 11 * hour,  # a dead worker's file, past retention
        "predictions-2.jsonl.3": 11 * hour,  # a rotated file, past retention
        "predictions-2.jsonl": 1 * hour,  # recent
        "predictions-3-raw.jsonl": 3 * hour,  # raw text, past its own shorter retention
        "predictions-4-raw.jsonl.1": 1 * hour,
        "notes.txt": 100 * hour,  # not a log file: never touched
    }
    for name, age in files.items():
        (tmp_path / name).write_text('{"a": 1}\n')
        _age(tmp_path / name, age)
    logger.purge()  # the logger's own thread may purge first: judge the directory, not the return value
    logger.close()
    deleted = {"predictions-1.jsonl", "predictions-2.jsonl.3", "predictions-3-raw.jsonl"}
    assert {p.name for p in tmp_path.iterdir()} == set(files) - deleted | {logger.path.name}


def test_a_worker_rotates_its_file_by_age_so_retention_can_delete_it(tmp_path):
    logger = PredictionLogger(tmp_path / "p.jsonl", retention_seconds=3600, rotate_seconds=60)
    _log_one(logger)
    logger.flush()
    _age(tmp_path / "p.jsonl", 7200)
    logger._writer._opened -= 7200  # the file was started two hours ago
    assert logger.purge() == [tmp_path / "p.jsonl.1"]  # rotated away, then deleted as too old
    _log_one(logger, text="a new prompt")
    logger.close()
    assert len(list(read_prediction_log(tmp_path))) == 1


def test_a_purged_active_file_is_started_again(tmp_path):
    logger = PredictionLogger(tmp_path / "p.jsonl")
    _log_one(logger)
    logger.flush()
    (tmp_path / "p.jsonl").unlink()  # e.g. deleted by another worker's retention pass while idle
    _log_one(logger, text="after the purge")
    logger.close()
    assert len(list(read_prediction_log(tmp_path))) == 1
    assert (tmp_path / "p.jsonl").stat().st_mode & 0o777 == 0o600


def test_raw_text_goes_to_raw_files_with_their_own_retention(tmp_path, params):
    logger = PredictionLogger(tmp_path / "predictions-{pid}.jsonl", log_raw_text=True)
    assert logger.path.name.endswith("-raw.jsonl")
    logger.close()
    cfg = {"monitor": {"log_raw_text": True, "prediction_log": {
        "path": str(tmp_path / "p.jsonl"), "retention_days": 30, "raw_text_retention_days": 0.5}}}
    logger = PredictionLogger.from_params(cfg)
    assert (logger.retention_seconds, logger.raw_text_retention_seconds) == (30 * 86400, 43200)
    logger.close()


def test_feedback_and_active_learning_join_on_the_logged_hash(tmp_path, intents):
    from pipeline.monitoring.active_learning import select_uncertain
    from pipeline.monitoring.feedback import load_feedback

    logger = PredictionLogger(tmp_path / "log" / "p.jsonl", log_raw_text=True)
    _log_one(logger, text="Write a poem about rain", intent=intents[0])
    logger.close()
    (record,) = read_prediction_log(tmp_path / "log")
    feedback = tmp_path / "fb.jsonl"
    feedback.write_text(json.dumps({"text": "write a poem  about rain", "intent": intents[0],
                                    "model_version": "3", "predicted": intents[0]}) + "\n")
    (row,), _ = load_feedback(feedback, intents)
    assert row.text_hash == record["text_hash"]
    candidate = {"text": record["text"], "probabilities": {intents[0]: 0.5, intents[1]: 0.5}}
    assert select_uncertain([candidate], 1, "margin", 0.8, exclude_hashes={record["text_hash"]}) == []
