"""Augmentation: WordNet from the Debian files, code untouched, multiplier, no val/test text ever."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from pipeline.config import merged
from pipeline.data import augment
from pipeline.data.augment import WordNet, WordNetMissingError, augment_rows, augment_text, load_wordnet
from pipeline.data.clean import dedupe_key


def test_wordnet_reads_the_debian_files():
    wordnet = load_wordnet()
    assert "compose" in wordnet.synonyms("write")
    assert "speedy" in wordnet.synonyms("quick")
    assert wordnet.synonyms("qwertyuiop") == []
    assert wordnet.is_inflected("works") and not wordnet.is_inflected("work")


def test_missing_wordnet_names_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv(augment.WORDNET_ENV, str(tmp_path))
    with pytest.raises(WordNetMissingError, match=r"make system-deps.*WORDNET_DIR"):
        WordNet()


def test_code_blocks_and_code_tokens_are_never_altered():
    code = "```python\ndef quick_sort(items):\n    return sorted(items)  # fast and simple\n```"
    text = (
        f"Please improve this quick function, it is slow on large lists:\n{code}\nUse `my_list.sort()` here."
    )
    rng = random.Random(0)
    variants = {augment_text(text, load_wordnet(), rng, 1.0, 1.0, set()) for _ in range(20)}
    assert any(v != text for v in variants)
    for variant in variants:
        assert code in variant
        assert "`my_list.sort()`" in variant


def test_rule_paraphrases_apply_to_plain_requests():
    rng = random.Random(3)
    seen = {
        augment_text("Write a short poem about rain.", load_wordnet(), rng, 0.0, 1.0, set())
        for _ in range(40)
    }
    assert {"Please write a short poem about rain.", "Could you write a short poem about rain?"} <= seen
    condition = augment_text(
        "If the printer jams, what should I do?", load_wordnet(), random.Random(0), 0.0, 1.0, set()
    )
    assert condition in {"What should I do if the printer jams?", "if the printer jams, what should i do?"}


def test_multiplier_grows_train_and_marks_copies(tiny_rows, params):
    cfg = merged(params, {"augment": {"multiplier": 2, "synonym_replace_prob": 0.3, "paraphrase_prob": 0.7}})
    result = augment_rows(tiny_rows, [], cfg, seed=0)
    s = result.stats
    assert result.rows[: len(tiny_rows)] == tiny_rows
    assert s["target_new"] == len(tiny_rows)
    assert s["added"] == len(result.rows) - len(tiny_rows) >= 0.9 * s["target_new"]
    copies = result.rows[len(tiny_rows) :]
    assert all(r["augmented"] for r in copies)
    assert len({dedupe_key(r["text"]) for r in result.rows}) == len(result.rows)  # no duplicates added
    copies_per_intent = Counter(r["intent"] for r in copies)
    assert all(copies_per_intent[i] >= 2 for i in params["intents"])  # every row gets its copy: mix kept
    assert augment_rows(tiny_rows, [], cfg, seed=0).rows == result.rows  # seeded


def test_never_emits_a_val_or_test_text_and_counts_the_drops(params):
    train = [{"text": "Write a poem about rain.", "intent": "creative_writing", "complexity": "simple"}]
    held_out = [
        "Please write a poem about rain.",
        "could you write a poem about rain?",
        "I need you to write a poem about rain.",
        "write a poem about rain",
    ]
    cfg = merged(params, {"augment": {"multiplier": 3, "synonym_replace_prob": 0.0, "paraphrase_prob": 1.0}})
    result = augment_rows(train, held_out, cfg, seed=0)
    s = result.stats
    assert s["added"] == 0 and s["dropped_in_val_test"] > 0
    assert s["added"] + s["dropped_unchanged"] + s["dropped_duplicate"] + s["dropped_in_val_test"] == 2 * 3
    assert result.rows == train


def test_disabled_or_multiplier_one_adds_nothing(tiny_rows, params):
    for override in ({"enabled": False}, {"multiplier": 1}):
        result = augment_rows(tiny_rows, [], merged(params, {"augment": override}), seed=0)
        assert result.rows == tiny_rows and result.stats["added"] == 0
