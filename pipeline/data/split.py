"""Seeded train/val/test split, stratified by intent and, inside each intent, by complexity.

Within an intent the rows are ordered complexity stratum by stratum (shuffled inside each) and
dealt to the splits by largest remaining deficit against the ratios. So every intent's split
sizes are within one row of `n * ratio`, and every (intent, complexity) stratum is also spread
in proportion (within about one row), without special cases for strata too small to split.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

SPLITS = ("train", "val", "test")


def split_ratios(params: dict) -> dict[str, float]:
    """The ratios from params data.split, checked to be non-negative and to sum to 1."""
    ratios = {name: float(params["data"]["split"][name]) for name in SPLITS}
    if any(r < 0 for r in ratios.values()) or abs(sum(ratios.values()) - 1.0) > 1e-6:
        raise ValueError(f"params data.split must be non-negative and sum to 1, got {ratios}")
    return ratios


def _deal(n: int, ratios: dict[str, float]) -> list[str]:
    """Split names for n positions so that every prefix tracks the ratios (largest deficit first)."""
    assigned = dict.fromkeys(ratios, 0)
    order = []
    for k in range(1, n + 1):
        name = max(ratios, key=lambda s: (ratios[s] * k - assigned[s], ratios[s]))
        assigned[name] += 1
        order.append(name)
    return order


def stratified_split(
    rows: Sequence[dict], ratios: dict[str, float], seed: int, levels: Sequence[str] | None = None
) -> dict[str, list[dict]]:
    """{"train": [...], "val": [...], "test": [...]}, each shuffled; same input + seed = same split."""
    rng = random.Random(seed)
    rank = {level: i for i, level in enumerate(levels or [])}
    by_intent: dict[str, list[dict]] = {}
    for row in rows:
        by_intent.setdefault(row["intent"], []).append(row)
    out: dict[str, list[dict]] = {name: [] for name in ratios}
    for intent in sorted(by_intent):
        strata: dict[str, list[dict]] = {}
        for row in by_intent[intent]:
            strata.setdefault(str(row.get("complexity")), []).append(row)
        ordered: list[dict] = []
        for level in sorted(strata, key=lambda lv: (rank.get(lv, len(rank)), lv)):
            chunk = list(strata[level])
            rng.shuffle(chunk)
            ordered.extend(chunk)
        for row, name in zip(ordered, _deal(len(ordered), ratios), strict=True):
            out[name].append(row)
    for name in out:
        rng.shuffle(out[name])
    return out
