"""Language of a prompt from its script and stop words, plus per-language metrics.

Why not a library: the detector is packed into the TorchServe .mar (stdlib only) and has to
answer in microseconds for every logged prediction. Two steps, as the classic detectors do:
1. Unicode script of the letters (Han/Kana/Hangul/Cyrillic/Greek/Arabic/Hebrew/Devanagari/Thai)
   decides most non-Latin languages outright;
2. Latin script: the language whose stop-word list covers the most tokens (plus a few telltale
   letters such as German "ß" or Portuguese "ã") wins; too few matches -> "und" (undetermined).
Codes are ISO 639-1. `per_language_metrics` groups evaluation results by the detected language.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

UNDETERMINED = "und"

# (first, last) code point -> script name; checked in order, BMP blocks only (enough for prompts).
_SCRIPT_RANGES: list[tuple[int, int, str]] = [
    (0x0041, 0x024F, "latin"),
    (0x0370, 0x03FF, "greek"),
    (0x0400, 0x04FF, "cyrillic"),
    (0x0590, 0x05FF, "hebrew"),
    (0x0600, 0x06FF, "arabic"),
    (0x0750, 0x077F, "arabic"),
    (0x0900, 0x097F, "devanagari"),
    (0x0E00, 0x0E7F, "thai"),
    (0x1100, 0x11FF, "hangul"),
    (0x1E00, 0x1EFF, "latin"),
    (0x3040, 0x309F, "kana"),
    (0x30A0, 0x30FF, "kana"),
    (0x3400, 0x4DBF, "han"),
    (0x4E00, 0x9FFF, "han"),
    (0xAC00, 0xD7AF, "hangul"),
    (0xF900, 0xFAFF, "han"),
]

_SCRIPT_LANGUAGE = {
    "greek": "el",
    "hebrew": "he",
    "arabic": "ar",
    "devanagari": "hi",
    "thai": "th",
    "hangul": "ko",
}

# The most frequent function words of each language (short, distinctive; shared words such as
# "a", "de", "la", "en" count for every language that lists them).
STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        "the and of to is in that it for you with on this are be as what how can my me your "
        "was have from an or please write about do does why which would could should i".split()
    ),
    "es": frozenset(
        "el la los las de que y en un una por para con es del al se lo como pero más sus "
        "qué cómo está son mi tu por favor escribe sobre puedes este esta".split()
    ),
    "fr": frozenset(
        "le la les de des du et est un une pour que qui dans en pas sur au avec ce cette "
        "je vous tu il elle nous mon ma mes est-ce comment pourquoi écris peux s'il".split()
    ),
    "de": frozenset(
        "der die das und ist nicht ein eine zu den mit von für auf im dem des sich auch "
        "ich du sie wir wie was warum bitte schreibe kannst über ein einen".split()
    ),
    "it": frozenset(
        "il lo la gli le di che e è un una per con non sono del della nel come ma anche "
        "mi ti si cosa perché scrivi puoi questo questa sulla".split()
    ),
    "pt": frozenset(
        "o os a as de do da dos das que e é um uma para com não em no na por mais como "
        "você eu meu minha isso este esta escreva pode sobre são".split()
    ),
    "nl": frozenset(
        "de het een en van is dat niet op te in voor met zijn er aan ook als maar "
        "ik je jij wij hoe wat waarom schrijf kun over deze dit".split()
    ),
    "ru": frozenset(
        "и в не на я что он с как а то это по к но из у за мне вы мы о для ты так "
        "почему напиши можешь пожалуйста".split()
    ),
    "uk": frozenset(
        "і в не на я що він з як а то це по до але із у за мені ви ми про для ти так "
        "чому напиши можеш будь ласка".split()
    ),
}

# Letters that only some Latin-script languages use: each adds one vote.
_TELLTALE = {
    "de": "ßäöü",
    "es": "ñ¿¡",
    "fr": "çœèêëàùû",
    "pt": "ãõç",
    "it": "ìò",
    "uk": "іїєґ",
}

_TOKEN = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)


def _script(ch: str) -> str | None:
    cp = ord(ch)
    for first, last, name in _SCRIPT_RANGES:
        if first <= cp <= last:
            return name
    return None


def script_counts(text: str) -> Counter[str]:
    """Letters per script (digits, punctuation and symbols not counted)."""
    counts: Counter[str] = Counter()
    for ch in text:
        if unicodedata.category(ch)[0] == "L":
            name = _script(ch)
            if name:
                counts[name] += 1
    return counts


def _by_stopwords(text: str, candidates: Sequence[str]) -> str:
    tokens = [t.lower() for t in _TOKEN.findall(text)]
    if not tokens:
        return UNDETERMINED
    lowered = text.lower()
    scores = {
        lang: sum(t in STOPWORDS[lang] for t in tokens) + sum(lowered.count(c) for c in _TELLTALE.get(lang, ""))
        for lang in candidates
    }
    best = max(scores.values())
    if best == 0:
        return UNDETERMINED
    winners = [lang for lang in candidates if scores[lang] == best]
    return winners[0]  # ties go to the first candidate: English for Latin, Russian for Cyrillic


def detect_language(text: str) -> str:
    """ISO 639-1 code of the text's language, or "und" when no letters or no evidence.

    Code, URLs and identifiers inside a prompt are mostly Latin letters: the script decision
    uses the majority script, so "翻译 this sentence" with more Han than Latin letters is zh.
    """
    counts = script_counts(text)
    if not counts:
        return UNDETERMINED
    if counts["kana"]:
        return "ja"  # Japanese mixes Kana with Han; Kana alone identifies it
    script, _ = counts.most_common(1)[0]
    if script == "han":
        return "zh"
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    if script == "cyrillic":
        return _by_stopwords(text, ["ru", "uk"])
    return _by_stopwords(text, ["en", "es", "fr", "de", "it", "pt", "nl"])


def per_language_metrics(
    texts: Sequence[str], y_true: Sequence[str], y_pred: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Accuracy, weighted and macro F1 per detected language: {lang: {n, accuracy, ...}}.

    Languages sorted by row count; F1 uses the labels present in that language's rows.
    """
    if not len(texts) == len(y_true) == len(y_pred):
        raise ValueError(f"lengths differ: texts={len(texts)} y_true={len(y_true)} y_pred={len(y_pred)}")
    from sklearn.metrics import accuracy_score, f1_score  # evaluation-time only; the .mar path stays stdlib

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
