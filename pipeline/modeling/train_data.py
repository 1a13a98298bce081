"""Training data on the way into the model: read processed splits, tokenise once, batch by length.

Most prompts are short and a few are long; padding a random batch to its longest row wastes most
of the compute on a CPU. Rows are tokenised once without padding, grouped into batches of similar
length (shuffled in chunks, sorted inside a chunk, batch order shuffled) and padded per batch.
The batch order of an epoch depends only on (seed, epoch, rank), so a resumed run can skip the
batches it has already seen and continue exactly where it was killed.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DistributedSampler

# chunk = this many batches sorted together: big enough to group lengths, small enough to stay random
SORT_CHUNK_BATCHES = 50


def read_jsonl_split(path: Path, intents: list[str], levels: list[str], need_score: bool = True) -> list[dict]:
    """Rows of a processed split; a bad row raises ValueError naming file, line and field."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make data` (or the script with --prepare-data) first")
    rows = []
    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{line_no}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{line_no}: expected a JSON object, got {type(row).__name__}")
            if not isinstance(row.get("text"), str) or not row["text"].strip():
                raise ValueError(f"{path}:{line_no}: field 'text' must be a non-empty string")
            if row.get("intent") not in intents:
                raise ValueError(f"{path}:{line_no}: field 'intent' {row.get('intent')!r} is not one of {intents}")
            if row.get("complexity") not in levels:
                raise ValueError(f"{path}:{line_no}: field 'complexity' {row.get('complexity')!r} is not one of {levels}")
            if need_score:
                score = row.get("complexity_score")
                if not isinstance(score, int | float) or not 0.0 <= score <= 1.0:
                    raise ValueError(f"{path}:{line_no}: field 'complexity_score' must be a number in [0, 1], got {score!r}")
            rows.append(row)
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


@dataclass
class EncodedSplit:
    """A split tokenised once (no padding) with its targets; features raw (normalised by the model)."""

    input_ids: list[list[int]]
    intent: torch.Tensor  # (N,) long
    level: torch.Tensor  # (N,) long
    score: torch.Tensor  # (N,) float
    features: torch.Tensor | None  # (N, F) float or None

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def lengths(self) -> list[int]:
        return [len(ids) for ids in self.input_ids]


def encode_split(rows: list[dict], tokenizer, max_length: int, intents: list[str], levels: list[str],
                 features: np.ndarray | None) -> EncodedSplit:
    texts = [r["text"] for r in rows]
    input_ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    return EncodedSplit(
        input_ids=input_ids,
        intent=torch.tensor([intents.index(r["intent"]) for r in rows], dtype=torch.long),
        level=torch.tensor([levels.index(r["complexity"]) for r in rows], dtype=torch.long),
        score=torch.tensor([float(r.get("complexity_score", 0.0)) for r in rows], dtype=torch.float32),
        features=None if features is None else torch.from_numpy(np.asarray(features, dtype=np.float32)),
    )


def length_bucketed_batches(lengths: list[int], batch_size: int, seed: int, epoch: int, shuffle: bool = True,
                            rank: int = 0, world_size: int = 1) -> list[list[int]]:
    """Batches of row indices with similar lengths; this rank's share of the epoch (DDP-safe).

    DistributedSampler gives each rank an equal-sized, seeded share (padded by repetition), so every
    rank runs the same number of batches, which DDP needs.
    """
    sampler = DistributedSampler(range(len(lengths)), num_replicas=world_size, rank=rank, shuffle=shuffle,
                                 seed=seed, drop_last=False)
    sampler.set_epoch(epoch)
    indices = list(sampler)
    if not shuffle:  # evaluation: fully sorted, the cheapest padding
        indices.sort(key=lambda i: lengths[i])
        return [indices[i:i + batch_size] for i in range(0, len(indices), batch_size)]
    chunk = batch_size * SORT_CHUNK_BATCHES
    batches = []
    for start in range(0, len(indices), chunk):
        part = sorted(indices[start:start + chunk], key=lambda i: lengths[i])
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    random.Random(seed * 1000 + epoch).shuffle(batches)
    return batches


def collate(split: EncodedSplit, batch: list[int], pad_id: int, token_types: bool = True) -> dict[str, torch.Tensor]:
    """Pad one batch to its own longest row (token_type_ids only for encoders that take them)."""
    width = max(len(split.input_ids[i]) for i in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch), width), dtype=torch.long)
    for row, i in enumerate(batch):
        seq = split.input_ids[i]
        ids[row, :len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, :len(seq)] = 1
    index = torch.tensor(batch, dtype=torch.long)
    out = {
        "input_ids": ids,
        "attention_mask": mask,
        "intent": split.intent[index],
        "level": split.level[index],
        "score": split.score[index],
    }
    if token_types:
        out["token_type_ids"] = torch.zeros_like(ids)
    if split.features is not None:
        out["features"] = split.features[index]
    return out


def steps_per_epoch(n_rows: int, batch_size: int, grad_accum: int, world_size: int = 1) -> int:
    """Optimizer steps in one epoch (the last, partial accumulation still steps)."""
    per_rank = math.ceil(n_rows / world_size)
    return math.ceil(math.ceil(per_rank / batch_size) / grad_accum)
