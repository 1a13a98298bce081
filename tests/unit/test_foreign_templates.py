"""Prompts written in another language: coverage per language x intent, slots, labels, share."""

from __future__ import annotations

import copy
import random
import re
from collections import Counter

import pytest

from pipeline.datagen.foreign_templates import FOREIGN_TEMPLATES, LANGUAGES
from pipeline.datagen.generate import _Draft, _Filler, generate_samples, plain_typing
from pipeline.datagen.prompt_banks import all_slots

SLOTS = all_slots()
_SLOT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
NON_TRANSLATION = [i for i in FOREIGN_TEMPLATES if i != "translation"]
ALL_TEMPLATES = [(i, lang, t) for i, by_lang in FOREIGN_TEMPLATES.items() for lang, ts in by_lang.items() for t in ts]

# Words that ask for a translation or for how a phrase is said, per language (lowercase stems).
TRANSLATE_WORDS = {
    "es": ["traduc", "tradúc", "cómo se dice", "como se dice", "cómo se escribe"],
    "fr": ["tradui", "traduc", "comment dit-on", "comment on dit"],
    "de": ["übersetz", "ubersetz", "uebersetz", "wie sagt man"],
    "pt": ["traduz", "traduç", "como se diz"],
    "it": ["tradu", "come si dice"],
    "nl": ["vertaal", "vertaling", "hoe zeg je"],
    "other": ["translat", "перев", "翻译", "訳して", "tłumacz"],
}


def asks_to_translate(text: str) -> list[str]:
    low = text.lower()
    return [w for words in TRANSLATE_WORDS.values() for w in words if w in low]


def words_of(template: str) -> str:
    """The template and every value its (non-pasted) slots can take, recursively."""
    parts, todo, seen = [template], _SLOT.findall(template), set()
    while todo:
        name = todo.pop()
        if name in seen or name.startswith("ctx_"):
            continue
        seen.add(name)
        for value in SLOTS[name]:
            if isinstance(value, str):
                parts.append(value)
                todo += _SLOT.findall(value)
    return "\n".join(parts)


def test_the_six_languages_cover_every_intent_with_at_least_six_templates(params):
    assert LANGUAGES == ("es", "fr", "de", "pt", "it", "nl")
    short = {(intent, lang): len(FOREIGN_TEMPLATES.get(intent, {}).get(lang, []))
             for intent in params["intents"] for lang in LANGUAGES}
    assert {k: n for k, n in short.items() if n < 6} == {}


def test_pasted_blocks_appear_where_people_paste_them():
    for lang in LANGUAGES:
        for intent in ("summarization", "data_analysis", "code_generation"):
            with_block = [t for t in FOREIGN_TEMPLATES[intent][lang] if "{ctx_" in t]
            assert len(with_block) >= 2, (intent, lang)


@pytest.mark.parametrize(("intent", "lang", "template"), ALL_TEMPLATES)
def test_every_template_fills_without_a_missing_slot(intent, lang, template):
    for seed in range(3):
        text = _Filler(random.Random(seed), SLOTS).fill(template, _Draft())
        assert text.strip() and not _SLOT.search(text), (lang, text)


def test_templates_are_not_repeated():
    texts = [t for _, _, t in ALL_TEMPLATES]
    assert [t for t, n in Counter(texts).items() if n > 1] == []


def test_no_foreign_template_outside_translation_asks_for_a_translation():
    offending = [(intent, lang, t, hits) for intent in NON_TRANSLATION for lang, ts in FOREIGN_TEMPLATES[intent].items()
                 for t in ts if (hits := asks_to_translate(words_of(t)))]
    assert offending == []


def test_the_translation_keywords_recognise_each_languages_translation_requests():
    """The check above can only fail if its words are the ones each language uses to ask."""
    for lang in LANGUAGES:
        templates = FOREIGN_TEMPLATES["translation"][lang]
        recognised = [t for t in templates if asks_to_translate(t)]
        assert len(recognised) >= len(templates) // 2, (lang, templates)


def _share_per_intent(rows: list[dict]) -> dict[str, float]:
    total = Counter(r["intent"] for r in rows if r["origin"] != "cross_intent")
    foreign = Counter(r["intent"] for r in rows if r["origin"] == "foreign")
    return {intent: foreign[intent] / n for intent, n in total.items()}


@pytest.mark.parametrize("share", [0.0, 0.3])
def test_foreign_rows_follow_the_share_parameter_for_every_intent(params, intents, share):
    changed = copy.deepcopy(params)
    changed["generate"]["foreign_share"] = share
    rows = generate_samples(3000, seed=11, add_cross_intent=True, params=changed)
    shares = _share_per_intent(rows)
    assert sorted(shares) == sorted(intents)
    assert all(abs(s - share) <= 0.1 for s in shares.values()), shares


def test_params_default_share_is_used(params):
    share = params["generate"]["foreign_share"]
    rows = generate_samples(3000, seed=12, params=params)
    template_rows = [r for r in rows if r["origin"] != "cross_intent"]
    assert abs(sum(r["origin"] == "foreign" for r in template_rows) / len(template_rows) - share) <= 0.03


def test_share_outside_0_1_is_refused(params):
    bad = copy.deepcopy(params)
    bad["generate"]["foreign_share"] = 1.5
    with pytest.raises(ValueError, match="foreign_share"):
        generate_samples(10, seed=0, params=bad)


def test_plain_typing_drops_accents_and_inverted_marks_only():
    assert plain_typing("¿Qué es la fotosíntesis? ¡Ça déménage, Müller!") == "Que es la fotosintesis? Ca demenage, Muller!"
    assert plain_typing("Straße 3,5 %") == "Straße 3,5 %"
