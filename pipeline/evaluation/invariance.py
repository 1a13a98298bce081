"""Invariance of the intent to answer-style words (CheckList INV tests, Ribeiro et al. 2020).

For every prompt of a labelled set and every modifier of a list ("{p} Step by step, please."),
the predicted intent of the modified prompt must equal the prediction for the prompt itself.
Two lists: the generator's (seen in training) and a held-out file the generator never reads;
the held-out figure is the one that says whether the model learnt the property.
"""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.datagen.style_modifiers import STYLE_MODIFIERS, Modifier, load_modifiers


def modifier_lists(params: dict) -> dict[str, tuple[Modifier, ...]]:
    from pipeline.config import resolve_path

    held_out = resolve_path(params["eval"]["invariance"]["held_out_modifiers"])
    return {"seen": STYLE_MODIFIERS, "held_out": load_modifiers(Path(held_out))}


def predict_intents(predict_proba, texts: list[str], batch_size: int = 64) -> np.ndarray:
    out = [np.asarray(predict_proba(texts[i : i + batch_size])[0]).argmax(axis=1) for i in range(0, len(texts), batch_size)]
    return np.concatenate(out) if out else np.zeros(0, dtype=int)


def invariance(
    texts: list[str],
    base_pred: np.ndarray,
    modifiers: tuple[Modifier, ...],
    predict_proba,
    intents: list[str],
    per_row: int | None = None,
    seed: int = 0,
    max_examples: int = 10,
) -> dict[str, Any]:
    """Share of (prompt, modifier) pairs whose predicted intent is unchanged, overall and per modifier.

    per_row: each prompt gets that many modifiers drawn without replacement (seeded), not all of
    them: the same estimate for a fraction of the forward passes.
    """
    rng = random.Random(seed)
    k = len(modifiers) if per_row is None else min(per_row, len(modifiers))
    pairs = [(i, m) for i in range(len(texts)) for m in rng.sample(modifiers, k)]
    modified = predict_intents(predict_proba, [m.apply(texts[i]) for i, m in pairs])
    same = modified == base_pred[[i for i, _ in pairs]]
    outcomes: dict[str, list[bool]] = {}
    for (_, m), s in zip(pairs, same, strict=True):
        outcomes.setdefault(m.template, []).append(bool(s))
    per_modifier = {t: sum(v) / len(v) for t, v in outcomes.items()}
    flips = Counter(
        f"{intents[int(base_pred[i])]} -> {intents[int(p)]}"
        for (i, _), p, s in zip(pairs, modified, same, strict=True)
        if not s
    )
    examples = [
        {"text": m.apply(texts[i]), "was": intents[int(base_pred[i])], "now": intents[int(p)]}
        for (i, m), p, s in zip(pairs, modified, same, strict=True)
        if not s
    ][:max_examples]
    return {
        "unchanged": float(same.mean()) if len(same) else 1.0,
        "pairs": len(pairs),
        "modifiers": len(modifiers),
        "worst_modifiers": dict(sorted(per_modifier.items(), key=lambda kv: kv[1])[:5]),
        "flips": dict(flips.most_common(8)),
        "examples": examples,
    }


def invariance_report(texts: list[str], base_pred: np.ndarray, predictor, params: dict) -> dict[str, Any]:
    """Seen and held-out invariance for one set (predictions at temperature 1 do not change argmax)."""
    per_row = params["eval"]["invariance"].get("modifiers_per_row")
    return {
        name: invariance(texts, base_pred, mods, predictor.predict_proba, predictor.intents, per_row, params.get("seed", 0))
        for name, mods in modifier_lists(params).items()
    }
