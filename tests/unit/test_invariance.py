"""Invariance to answer-style words: the measurement, the held-out list, and the generator's odds."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from pipeline.config import load_params, resolve_path
from pipeline.datagen.generate import generate_samples
from pipeline.datagen.style_modifiers import STYLE_MODIFIERS, Modifier, load_modifiers
from pipeline.evaluation.invariance import invariance, modifier_lists

INTENTS = ["question_answering", "reasoning"]


def step_means_reasoning(texts):
    """A model that learnt the shortcut the issue measured: "step" -> reasoning."""
    probs = np.array([[0.2, 0.8] if "step" in t.lower() else [0.9, 0.1] for t in texts])
    return probs, None, None


def test_invariance_counts_every_flip_and_names_the_modifier():
    texts = ["what is inflation", "who wrote hamlet"]
    base = np.zeros(2, dtype=int)
    mods = (Modifier("{p} Step by step, please."), Modifier("Hey, {p}"))
    result = invariance(texts, base, mods, step_means_reasoning, INTENTS)
    assert result["pairs"] == 4 and result["unchanged"] == 0.5
    assert result["worst_modifiers"]["{p} Step by step, please."] == 0.0
    assert result["worst_modifiers"]["Hey, {p}"] == 1.0
    assert result["flips"] == {"question_answering -> reasoning": 2}
    assert result["examples"][0] == {"text": "what is inflation Step by step, please.", "was": "question_answering",
                                     "now": "reasoning"}


def test_modifier_templates_wrap_the_prompt():
    assert Modifier("Quick question: {p}").apply("  why is the sky blue \n") == "Quick question: why is the sky blue"
    assert Modifier("{p_lower}").apply("Why Is The Sky Blue?") == "why is the sky blue?"


def test_held_out_modifiers_are_many_and_never_seen_in_training():
    params = load_params()
    lists = modifier_lists(params)
    assert len(lists["seen"]) + len(lists["held_out"]) >= 40 and len(lists["held_out"]) >= 20
    seen = {m.template.lower() for m in lists["seen"]}
    assert not seen & {m.template.lower() for m in lists["held_out"]}
    banks = "\n".join(f.read_text(encoding="utf-8").lower() for f in resolve_path("pipeline/datagen").glob("*.py"))
    for m in lists["held_out"]:  # the phrase itself (without the {p} slot) appears in no training bank
        phrase = m.template.replace("{p}", "").strip().lower()
        assert phrase not in banks, phrase


def test_a_modifier_file_line_without_the_prompt_slot_is_an_error_with_its_line(tmp_path):
    path = tmp_path / "mods.txt"
    path.write_text("# comment\n{p} ok\nno slot here\n")
    with pytest.raises(ValueError, match=r"mods.txt:3"):
        load_modifiers(path)


def test_generator_gives_every_intent_the_same_odds_of_a_style_modifier():
    """If only some intents got "step by step", the words would carry label signal."""
    params = load_params()
    rows = generate_samples(4000, seed=7, params=params)
    suffixes = [m.template.replace("{p}", "").strip() for m in STYLE_MODIFIERS if m.template.startswith("{p} ")]
    with_mod = Counter(r["intent"] for r in rows if any(r["text"].endswith(s) or s.lower() in r["text"].lower()
                                                         for s in suffixes))
    per_intent = Counter(r["intent"] for r in rows)
    shares = {i: with_mod[i] / per_intent[i] for i in per_intent}
    assert min(shares.values()) > 0.08, shares
    assert max(shares.values()) - min(shares.values()) < 0.12, shares


def test_every_written_boundary_has_generator_templates_on_both_sides():
    """params.yaml intent_boundaries is the rule; the generator must show the model both sides."""
    from pipeline.datagen.boundary_templates import BOUNDARY_TEMPLATES

    params = load_params()
    for boundary in params["intent_boundaries"]:
        for side in boundary["between"]:
            if side == "any":
                continue
            assert side in params["intents"], boundary
            assert BOUNDARY_TEMPLATES.get(side), f"no boundary templates for {side}"
        assert boundary["rule"] and boundary["examples"], boundary


def test_a_sample_of_modifiers_per_row_is_seeded_and_covers_each_row():
    texts = [f"what is thing {i}" for i in range(30)]
    mods = (Modifier("{p} Step by step, please."), Modifier("Hey, {p}"), Modifier("{p} Thanks!"))
    first = invariance(texts, np.zeros(30, dtype=int), mods, step_means_reasoning, INTENTS, per_row=1, seed=3)
    again = invariance(texts, np.zeros(30, dtype=int), mods, step_means_reasoning, INTENTS, per_row=1, seed=3)
    assert first == again and first["pairs"] == 30
    assert 0.0 < first["unchanged"] < 1.0  # the step modifier was drawn for some rows, not all
