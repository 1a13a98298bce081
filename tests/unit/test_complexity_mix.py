"""The generator's complexity levels: every intent gets all three in the configured proportions."""

from __future__ import annotations

import copy
from collections import Counter, defaultdict

import pytest

from pipeline.config import load_params
from pipeline.datagen.generate import generate_samples


def level_shares(rows):
    by_intent = defaultdict(Counter)
    for r in rows:
        by_intent[r["intent"]][r["complexity"]] += 1
    return {i: {lv: c[lv] / sum(c.values()) for lv in ("simple", "moderate", "complex")} for i, c in by_intent.items()}


def test_every_intent_gets_complex_rows_as_often_as_the_mix_says():
    params = copy.deepcopy(load_params())
    params["generate"]["complexity_mix"] = {"default": [0.34, 0.33, 0.33]}
    shares = level_shares(generate_samples(3000, seed=11, params=params))
    for intent, s in shares.items():
        if intent == "conversation":  # chat that asks for nothing rarely reaches complex: given up, not forced
            continue
        assert all(0.2 < s[lv] < 0.47 for lv in s), (intent, s)


def test_a_per_intent_mix_overrides_the_default():
    params = copy.deepcopy(load_params())
    params["generate"]["complexity_mix"] = {"default": [0.34, 0.33, 0.33], "summarization": [0.0, 1.0, 0.0]}
    shares = level_shares(generate_samples(2000, seed=5, params=params))
    assert shares["summarization"]["moderate"] > 0.95


@pytest.mark.parametrize("mix, message", [
    ({"default": [0.5, 0.5]}, "3 non-negative shares"),
    ({"default": [0.3, 0.3, 0.4], "poetry": [0.3, 0.3, 0.4]}, "unknown intents"),
])
def test_a_bad_mix_is_refused_with_its_key(mix, message):
    params = copy.deepcopy(load_params())
    params["generate"]["complexity_mix"] = mix
    with pytest.raises(ValueError, match=message):
        generate_samples(10, seed=1, params=params)
