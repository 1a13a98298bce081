"""Hand-made prompt features and the complexity score (stdlib + numpy).

Training and the handler compute the same vector from this one module (it travels in the .mar with
the rest of model_src/; tests/unit/test_archive_standalone.py loads it there alone). The model concatenates the
feature vector to the pooled text embedding; every feature is scaled to [0, 1] so no extra
normaliser has to travel with the model.

Features, in FEATURE_NAMES order (counts are squashed with log1p(x)/log1p(cap) or min(x/cap, 1)):
- chars_log: characters, log-scaled, cap 5000.
- words_log: words (runs of letters/digits), log-scaled, cap 1000.
- sentences_log: sentences (split on . ! ? and line breaks), log-scaled, cap 50.
- lines_log: non-empty lines, log-scaled, cap 100.
- avg_word_len: mean word length / 12.
- has_code_block: 1 if a ``` / ~~~ fence or an indented block after a blank line is present.
- code_symbol_ratio: share of characters in {}[]()<>=;_/\\|*&$#@`, times 4, capped at 1.
- code_keywords: code tokens (def, return, import, SELECT, console.log, =>, ...) / 5.
- inline_code: 1 if `inline code` or a snake_case/camelCase/dotted.call identifier appears.
- question_mark: 1 if the text contains "?".
- question_start: 1 if the first word is a question word or auxiliary (what, how, can, is ...).
- imperative_start: 1 if the first word (after please/pls/kindly) is an imperative verb.
- polite_marker: 1 if please / could you / would you / kindly / thanks appears.
- numbers: numbers in the text / 10.
- digit_ratio: share of characters that are digits, times 4, capped at 1.
- list_items: lines that start with -, *, bullets or "1." / "1)" / 10.
- constraint_markers: requirement phrases (must, should, at least, no more than, exactly,
  without, only, under N words, make sure, don't ...) / 5.
- step_markers: sequencing words (step by step, first, then, next, finally, after that) / 5.
- multi_part: joined requests (and also, as well as, additionally, plus a ;) / 3.
- non_ascii_ratio: share of letters outside ASCII (pasted foreign-language text).
- uppercase_ratio: share of letters in upper case.
- complexity_score: see complexity_score().
"""

from __future__ import annotations

import math
import re

import numpy as np

FEATURE_NAMES: list[str] = [
    "chars_log",
    "words_log",
    "sentences_log",
    "lines_log",
    "avg_word_len",
    "has_code_block",
    "code_symbol_ratio",
    "code_keywords",
    "inline_code",
    "question_mark",
    "question_start",
    "imperative_start",
    "polite_marker",
    "numbers",
    "digit_ratio",
    "list_items",
    "constraint_markers",
    "step_markers",
    "multi_part",
    "non_ascii_ratio",
    "uppercase_ratio",
    "complexity_score",
]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[.!?]+(?:\s|$)|\n+")
_FENCE = re.compile(r"^[ \t]*(```|~~~)", re.MULTILINE)
_INDENTED_BLOCK = re.compile(r"\n[ \t]*\n(?: {4}|\t)\S")
_CODE_SYMBOLS = set("{}[]()<>=;_/\\|*&$#@`")
_CODE_KEYWORDS = re.compile(
    r"\b(?:def|return|import|from\s+\w+\s+import|class|lambda|elif|print\(|function|const|let|var|"
    r"console\.log|public|static|void|int|char|struct|#include|SELECT|INSERT|UPDATE|DELETE|WHERE|JOIN|"
    r"GROUP BY|async|await|try|except|catch|throw|null|None|True|False|self|this)\b|=>|->|==|!=|\+=|::|&&|\|\|"
)
_INLINE_CODE = re.compile(r"`[^`\n]+`|\b[a-z]+_[a-z0-9_]+\b|\b[a-z]+[A-Z][a-zA-Z]+\b|\b\w+\.\w+\(")
_QUESTION_WORDS = {
    "what", "why", "how", "when", "where", "who", "whom", "whose", "which", "is", "are", "was", "were",
    "do", "does", "did", "can", "could", "would", "should", "will", "shall", "may", "might", "has",
    "have", "had", "am", "isn't", "aren't", "doesn't", "don't", "won't", "wouldn't", "couldn't",
}  # fmt: skip
_IMPERATIVE_VERBS = {
    "write", "create", "make", "generate", "give", "list", "explain", "describe", "summarize",
    "summarise", "translate", "convert", "fix", "debug", "refactor", "implement", "build", "design",
    "plan", "draft", "compose", "analyze", "analyse", "compare", "calculate", "compute", "solve",
    "find", "show", "tell", "help", "suggest", "recommend", "outline", "prepare", "organize",
    "organise", "schedule", "rewrite", "edit", "improve", "optimize", "optimise", "check", "review",
    "evaluate", "prove", "determine", "identify", "estimate", "condense", "shorten", "sort", "draw",
    "provide", "produce", "develop", "add", "remove", "update", "define", "name", "imagine", "pretend",
    "let's", "lets", "tldr", "tl;dr", "brainstorm", "map", "break", "figure", "work",
}  # fmt: skip
_POLITE = re.compile(
    r"\b(?:please|pls|plz|kindly|could you|would you|would you mind|thanks|thank you)\b", re.I
)
_LEADING_FILLER = {"please", "pls", "plz", "kindly", "hey", "hi", "hello", "ok", "okay", "so"}
_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*%?")
_LIST_ITEM = re.compile(r"^[ \t]*(?:[-*\u2022\u25cf]|\d{1,3}[.)])\s+\S", re.MULTILINE)
_CONSTRAINTS = re.compile(
    r"\b(?:must|should|need(?:s)? to|at least|at most|no more than|no less than|not more than|exactly|"
    r"without|only|limit(?:ed)? to|under \d+|within \d+|maximum|minimum|make sure|ensure|required?|"
    r"don'?t|do not|never|always|avoid|strictly|in \d+ (?:words|sentences|bullet|lines|points))\b",
    re.I,
)
_STEPS = re.compile(
    r"\b(?:step[- ]by[- ]step|steps?|first(?:ly)?|then|next|finally|after that|afterwards|lastly)\b", re.I
)
_MULTI_PART = re.compile(r"\b(?:and also|as well as|additionally|in addition|also)\b|;", re.I)


def _log_scale(count: float, cap: float) -> float:
    return min(math.log1p(count) / math.log1p(cap), 1.0)


def _ratio(count: float, cap: float) -> float:
    return min(count / cap, 1.0)


def _first_word(words: list[str]) -> str:
    for word in words[:4]:
        if word not in _LEADING_FILLER:
            return word
    return ""


def _raw(text: str) -> dict[str, float]:
    """Every feature but complexity_score, for one text."""
    words = _WORD.findall(text)
    n_chars = len(text)
    letters = [ch for ch in text if ch.isalpha()]
    n_letters = max(len(letters), 1)
    lower_words = [w.lower() for w in re.findall(r"[\w';]+", text[:200])]
    first = _first_word(lower_words)
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    lines = [line for line in text.split("\n") if line.strip()]
    return {
        "chars_log": _log_scale(n_chars, 5000),
        "words_log": _log_scale(len(words), 1000),
        "sentences_log": _log_scale(len(sentences), 50),
        "lines_log": _log_scale(len(lines), 100),
        "avg_word_len": _ratio(sum(map(len, words)) / max(len(words), 1), 12),
        "has_code_block": float(bool(_FENCE.search(text) or _INDENTED_BLOCK.search(text))),
        "code_symbol_ratio": _ratio(sum(ch in _CODE_SYMBOLS for ch in text) / max(n_chars, 1), 0.25),
        "code_keywords": _ratio(len(_CODE_KEYWORDS.findall(text)), 5),
        "inline_code": float(bool(_INLINE_CODE.search(text))),
        "question_mark": float("?" in text),
        "question_start": float(first in _QUESTION_WORDS),
        "imperative_start": float(first in _IMPERATIVE_VERBS),
        "polite_marker": float(bool(_POLITE.search(text))),
        "numbers": _ratio(len(_NUMBER.findall(text)), 10),
        "digit_ratio": _ratio(sum(ch.isdigit() for ch in text) / max(n_chars, 1), 0.25),
        "list_items": _ratio(len(_LIST_ITEM.findall(text)), 10),
        "constraint_markers": _ratio(len(_CONSTRAINTS.findall(text)), 5),
        "step_markers": _ratio(len(_STEPS.findall(text)), 5),
        "multi_part": _ratio(len(_MULTI_PART.findall(text)), 3),
        "non_ascii_ratio": sum(not ch.isascii() for ch in letters) / n_letters,
        "uppercase_ratio": sum(ch.isupper() for ch in letters) / n_letters,
        "_words": float(len(words)),
        "_sentences": float(len(sentences)),
    }


# weights of the complexity score; they sum to 1 so the score stays in [0, 1]
_COMPLEXITY_WEIGHTS = {
    "length": 0.40,  # words, log-scaled with a cap of 150 words (the longest generated prompts)
    "sentences": 0.10,  # sentences, log-scaled, cap 12
    "constraint_markers": 0.15,
    "list_items": 0.08,
    "step_markers": 0.07,
    "multi_part": 0.07,
    "code": 0.08,  # a code block or heavy code symbols: there is context to read
    "numbers": 0.05,
}


def _complexity(raw: dict[str, float]) -> float:
    parts = {
        "length": _log_scale(raw["_words"], 150),
        "sentences": _log_scale(raw["_sentences"], 12),
        "constraint_markers": raw["constraint_markers"],
        "list_items": raw["list_items"],
        "step_markers": raw["step_markers"],
        "multi_part": raw["multi_part"],
        "code": max(raw["has_code_block"], raw["code_keywords"]),
        "numbers": raw["numbers"],
    }
    score = sum(_COMPLEXITY_WEIGHTS[k] * v for k, v in parts.items())
    return float(min(max(score, 0.0), 1.0))


def complexity_score(text: str) -> float:
    """How demanding a prompt looks, in [0, 1]: mostly length, then constraints, structure, code.

    A heuristic, not a label: the complexity head learns the level from data; this score feeds
    the model as a feature and fills `complexity` when an input file has none.
    """
    return _complexity(_raw(text))


def extract_features(texts: list[str]) -> np.ndarray:
    """Feature matrix float32 (len(texts), len(FEATURE_NAMES)), one row per text, values in [0, 1]."""
    out = np.zeros((len(texts), len(FEATURE_NAMES)), dtype=np.float32)
    for i, text in enumerate(texts):
        raw = _raw(text)
        raw["complexity_score"] = _complexity(raw)
        out[i] = [raw[name] for name in FEATURE_NAMES]
    return out
