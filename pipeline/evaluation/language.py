"""Language of a prompt (py3langid, offline) and per-language metrics of an evaluation.

py3langid (langid.py's maintained fork: a naive Bayes model over byte n-grams, 97 languages,
4.5 MB, shipped inside the wheel) replaced a hand-written stop-word detector. It was measured
against that detector and lingua-language-detector on 87 labelled non-English prompts in 21
languages and the 369 ASCII rows of eval_sets (README, "Languages"): limited to the same
languages, both were right on all but one or two rows of each, but lingua took 8x longer to load,
4x the memory and ~10x longer per prompt, and evaluation calls the detector once per row.

The identifier is limited to LANGUAGES, the languages the project's prompts come in: with all 97,
short English prompts ("pun about cheese") came out as Nigerian Pidgin or Walloon. Codes are
ISO 639-1; "und" (undetermined) for a text without letters.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache

UNDETERMINED = "und"

# English plus the languages of the generator's foreign prompts (pipeline.datagen) and of the test samples.
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "nl", "pl", "tr", "vi", "id", "ru", "uk",
             "el", "he", "ar", "hi", "th", "zh", "ja", "ko")


@cache
def identifier():
    """py3langid's model, loaded once and limited to LANGUAGES."""
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    model = LanguageIdentifier.from_model_file(MODEL_FILE)
    model.set_languages(list(LANGUAGES))
    return model


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language (one of LANGUAGES), or "und" when it has no letters."""
    if not any(ch.isalpha() for ch in text):
        return UNDETERMINED
    return identifier().classify(text)[0]


def per_language_metrics(
    texts: Sequence[str], y_true: Sequence[str], y_pred: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Accuracy, weighted and macro F1 per detected language: {lang: {n, accuracy, ...}}.

    Languages sorted by row count; F1 uses the labels present in that language's rows.
    """
    if not len(texts) == len(y_true) == len(y_pred):
        raise ValueError(f"lengths differ: texts={len(texts)} y_true={len(y_true)} y_pred={len(y_pred)}")
    from sklearn.metrics import accuracy_score, f1_score

    groups: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        groups.setdefault(detect_language(text), []).append(i)
    out: dict[str, dict[str, float]] = {}
    for lang, idx in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        t = [y_true[i] for i in idx]
        p = [y_pred[i] for i in idx]
        out[lang] = {
            "n": len(idx),
            "accuracy": float(accuracy_score(t, p)),
            "weighted_f1": float(f1_score(t, p, average="weighted", zero_division=0)),
            "macro_f1": float(f1_score(t, p, average="macro", zero_division=0)),
        }
    return out
