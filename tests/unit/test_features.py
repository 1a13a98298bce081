"""Features: shape/dtype/range contract, each marker on a text that has it, complexity ordering."""

from __future__ import annotations

import numpy as np
import pytest

from model_src import features
from model_src.features import FEATURE_NAMES, complexity_score, extract_features


def _f(text: str) -> dict[str, float]:
    return dict(zip(FEATURE_NAMES, extract_features([text])[0].tolist(), strict=True))


def test_contract_shape_dtype_range(tiny_rows):
    texts = [r["text"] for r in tiny_rows] + ["", "a" * 20000]
    x = extract_features(texts)
    assert x.shape == (len(texts), len(FEATURE_NAMES)) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0
    assert extract_features([]).shape == (0, len(FEATURE_NAMES))
    assert len(set(FEATURE_NAMES)) == len(FEATURE_NAMES)


def test_every_feature_is_documented_in_the_module_docstring():
    for name in FEATURE_NAMES:
        assert f"- {name}:" in features.__doc__


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Fix this:\n```python\nprint(x)\n```", "has_code_block"),
        ("why does my_var = foo.bar() fail", "inline_code"),
        ("What is the capital of France?", "question_mark"),
        ("how does a heat pump work", "question_start"),
        ("Please write a poem about rain", "imperative_start"),
        ("Could you help me, thanks", "polite_marker"),
        ("Sales were 120, 135 and 90 in 2023", "numbers"),
        ("Todo:\n- buy milk\n- call mom\n1. pay rent", "list_items"),
        ("It must be exactly 3 lines and don't use rhymes", "constraint_markers"),
        ("First boil water, then add pasta, finally drain it", "step_markers"),
        ("Translate: Wir freuen uns über die Ergebnisse, ça va très bien", "non_ascii_ratio"),
    ],
)
def test_marker_fires_on_a_text_that_has_it_and_not_on_a_plain_one(text, name):
    assert _f(text)[name] > 0.0
    assert _f("the weather at the lake")[name] == 0.0


def test_sizes_grow_with_the_text():
    short, long = _f("Hello."), _f("Hello there. " * 30)
    for name in ("chars_log", "words_log", "sentences_log"):
        assert long[name] > short[name]


def test_complexity_score_orders_simple_below_complex():
    simple = complexity_score("hi")
    moderate = complexity_score("Write a Python function that checks whether a string is a palindrome.")
    complex_ = complexity_score(
        "Design a data pipeline that ingests CSV files from S3, validates each row, must handle schema "
        "drift and late data, and also writes Parquet partitioned by day. First outline the architecture, "
        "then list the failure modes, and finally give a step by step rollout plan:\n"
        "- at most 3 services\n- no managed Spark\n- budget under 500 USD per month"
    )
    assert 0.0 <= simple < moderate < complex_ <= 1.0
    assert extract_features(["hi"])[0][FEATURE_NAMES.index("complexity_score")] == pytest.approx(simple)
