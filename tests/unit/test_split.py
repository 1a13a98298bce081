"""Split: ratios from params, seeded determinism, stratification by intent and complexity (property)."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.data.split import split_ratios, stratified_split

LEVELS = ["simple", "moderate", "complex"]


def _rows(counts: dict[tuple[str, str], int]) -> list[dict]:
    return [
        {"text": f"{intent}-{level}-{i}", "intent": intent, "complexity": level}
        for (intent, level), n in counts.items()
        for i in range(n)
    ]


def test_ratios_come_from_params_and_are_checked(params):
    assert split_ratios(params) == {k: float(v) for k, v in params["data"]["split"].items()}
    with pytest.raises(ValueError, match="sum to 1"):
        split_ratios({"data": {"split": {"train": 0.8, "val": 0.3, "test": 0.1}}})


def test_same_seed_same_split_other_seed_other_split(tiny_rows, params):
    ratios = split_ratios(params)
    a = stratified_split(tiny_rows * 4, ratios, seed=1, levels=LEVELS)
    b = stratified_split(tiny_rows * 4, ratios, seed=1, levels=LEVELS)
    c = stratified_split(tiny_rows * 4, ratios, seed=2, levels=LEVELS)
    assert a == b
    assert a != c


@settings(max_examples=150, deadline=None)
@given(
    counts=st.dictionaries(
        st.tuples(st.sampled_from(["a", "b", "c", "d"]), st.sampled_from(LEVELS)),
        st.integers(0, 60),
        min_size=1,
    ),
    ratios=st.sampled_from([(0.8, 0.1, 0.1), (0.7, 0.15, 0.15), (0.6, 0.2, 0.2), (1.0, 0.0, 0.0)]),
    seed=st.integers(0, 10_000),
)
def test_split_is_a_stratified_partition(counts, ratios, seed):
    rows = _rows(counts)
    ratio = dict(zip(("train", "val", "test"), ratios, strict=True))
    out = stratified_split(rows, ratio, seed, LEVELS)
    # a partition: every row exactly once
    assert sorted(r["text"] for part in out.values() for r in part) == sorted(r["text"] for r in rows)
    per_intent = Counter(r["intent"] for r in rows)
    per_stratum = Counter((r["intent"], r["complexity"]) for r in rows)
    for name, part in out.items():
        got_intent = Counter(r["intent"] for r in part)
        for intent, n in per_intent.items():
            assert abs(got_intent[intent] - n * ratio[name]) < 1.0 + 1e-9  # each intent within one row
        got_stratum = Counter((r["intent"], r["complexity"]) for r in part)
        for stratum, n in per_stratum.items():
            assert (
                abs(got_stratum[stratum] - n * ratio[name]) < 2.0 + 1e-9
            )  # each complexity stratum within two
