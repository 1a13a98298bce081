"""Measure the drift detector: alarm rate on same-distribution streams, detection of shifts.

The reference is built as `make drift` builds it (rows of the training distribution and the
model's predictions). Streams:
- same distribution: random windows of a pool of fresh rows from the same generator (other
  seed), never seen by the reference; each seed draws a new window. The alarm rate over many
  seeds is the false-positive rate.
- shifted (synthetic): `intent_mix` (70 % of the window from two intents), `long_prompts`
  (each prompt is three pool prompts joined), `typos` (20 % of letters dropped or doubled);
  plus `realistic` when a hand-written set is given (real prompts vs synthetic training data).
The pool is predicted once; windows are index draws, so 200 seeds cost 200 comparisons.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from pipeline.monitoring.drift import Snapshot, Thresholds, compare, snapshot_from_predictions
from pipeline.progress import progress_bar


def subset(snapshot: Snapshot, idx: Sequence[int]) -> Snapshot:
    idx = np.asarray(idx)
    return Snapshot(numeric={k: v[idx] for k, v in snapshot.numeric.items()},
                    intents=[snapshot.intents[i] for i in idx])


def intent_mix_indices(snapshot: Snapshot, size: int, favoured: Sequence[str], share: float,
                       rng: np.random.Generator) -> np.ndarray:
    """A window where `share` of the rows are predicted as one of `favoured`, the rest anything."""
    fav = np.array([i for i, it in enumerate(snapshot.intents) if it in favoured])
    other = np.array([i for i, it in enumerate(snapshot.intents) if it not in favoured])
    n_fav = int(round(size * share))
    return np.concatenate([rng.choice(fav, n_fav, replace=len(fav) < n_fav),
                           rng.choice(other, size - n_fav, replace=len(other) < size - n_fav)])


def join_prompts(texts: Sequence[str], k: int, seed: int) -> list[str]:
    """Each output prompt is k random input prompts joined: longer, multi-part traffic."""
    rng = random.Random(seed)
    return [" ".join(rng.sample(list(texts), k)) for _ in range(len(texts))]


def add_typos(texts: Sequence[str], rate: float, seed: int) -> list[str]:
    """Drop or double `rate` of the letters: sloppy typing, OCR, or another input channel."""
    rng = random.Random(seed)
    out = []
    for t in texts:
        chars = []
        for ch in t:
            r = rng.random()
            if ch.isalpha() and r < rate / 2:
                continue
            chars.append(ch * 2 if ch.isalpha() and r < rate else ch)
        out.append("".join(chars))
    return out


def alarm_rates(reference: Snapshot, draw: Callable[[np.random.Generator], Snapshot], seeds: int,
                intents: Sequence[str], th: Thresholds, desc: str) -> dict[str, Any]:
    """Share of seeds where each check alarmed, and which columns alarmed how often."""
    counts = {"any": 0, "data": 0, "output": 0, "intent": 0}
    columns: dict[str, int] = {}
    for seed in progress_bar(range(seeds), desc=desc, unit="seed"):
        report = compare(reference, draw(np.random.default_rng(seed)), intents, th)
        counts["any"] += report["drift"]
        counts["data"] += report["data_drift"]
        counts["output"] += report["output_drift"]
        counts["intent"] += report["intent"]["drift"]
        for c in report["numeric"]:
            columns[c["name"]] = columns.get(c["name"], 0) + int(c["drift"])
    return {"seeds": seeds, **{f"rate_{k}": v / seeds for k, v in counts.items()},
            "column_rates": {k: v / seeds for k, v in sorted(columns.items()) if v}}


def simulate(
    reference: Snapshot,
    pool_texts: Sequence[str],
    predict: Callable[[list[str]], list[dict[str, Any]]],
    intents: Sequence[str],
    th: Thresholds,
    *,
    window: int,
    seeds: int,
    shift_seeds: int,
    realistic_texts: Sequence[str] | None = None,
) -> dict[str, Any]:
    """False-positive rate on same-distribution windows and detection rate per shift."""
    pool = snapshot_from_predictions(pool_texts, predict(list(pool_texts)))
    if len(pool) < window:
        raise ValueError(f"pool of {len(pool)} rows is smaller than the window of {window}")
    results: dict[str, Any] = {"window": window, "reference_rows": len(reference), "pool_rows": len(pool),
                               "thresholds": th.__dict__}
    results["same_distribution"] = alarm_rates(
        reference, lambda rng: subset(pool, rng.choice(len(pool), window, replace=False)), seeds, intents, th,
        "same distribution")
    favoured = intents[2:4]  # code_generation + data_analysis with the default label order
    shifts: dict[str, Snapshot] = {
        "intent_mix": pool,
        "long_prompts": snapshot_from_predictions(joined := join_prompts(pool_texts[:window * 2], 3, 0),
                                                  predict(joined)),
        "typos": snapshot_from_predictions(typo := add_typos(pool_texts[:window * 2], 0.2, 0), predict(typo)),
    }
    if realistic_texts:
        shifts["realistic"] = snapshot_from_predictions(list(realistic_texts), predict(list(realistic_texts)))
    results["shifts"] = {}
    for name, snap in shifts.items():
        size = min(window, len(snap))
        if name == "intent_mix":
            def draw(rng, snap=snap, size=size):
                return subset(snap, intent_mix_indices(snap, size, favoured, 0.7, rng))
        else:
            def draw(rng, snap=snap, size=size):
                return subset(snap, rng.choice(len(snap), size, replace=False))
        results["shifts"][name] = {"window": size, **alarm_rates(reference, draw, shift_seeds, intents, th, name)}
    results["shifts"]["intent_mix"]["favoured"] = list(favoured)
    return results
