"""Tiny processed splits and shrunk params for training tests (one CPU-second per epoch)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from model_src.features import complexity_score


def write_processed(out_dir: Path, rows: list[dict], copies: int = 1) -> Path:
    """train/val/test.jsonl from the same rows (tests judge learning, not generalisation)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    scored = [{**r, "complexity_score": complexity_score(r["text"])} for r in rows] * copies
    for split in ("train", "val", "test"):
        with (out_dir / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in scored)
    return out_dir


def tiny_params(params: dict, tmp_path: Path, encoder_dir: Path, rows: list[dict], **train) -> dict:
    """params.yaml shrunk to a tiny encoder, tiny data, a few fast epochs, everything under tmp_path."""
    p = copy.deepcopy(params)
    processed = write_processed(tmp_path / "processed", rows)
    p["paths"].update(
        processed_dir=str(processed),
        model_dir=str(tmp_path / "model"),
        checkpoint_dir=str(tmp_path / "checkpoints"),
        realistic_test=str(processed / "test.jsonl"),
        realistic_dev=str(tmp_path / "absent_dev.jsonl"),
    )
    p["model"].update(base=str(encoder_dir), max_length=32, freeze_embeddings=False)  # random embeddings must learn
    p["train"].update(epochs=2, batch_size=8, learning_rate=1e-3, warmup_ratio=0.0, num_threads=1,
                      early_stopping_patience=0, checkpoint_every_steps=2, amp=False)
    p["train"].update(train)
    p["mlflow"].update(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}", artifact_location=(tmp_path / "mlruns").as_uri())
    return p
