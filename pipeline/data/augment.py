"""Augmentation of the TRAIN split: WordNet synonym replacement and rule-based paraphrase.

WordNet 3.0 comes from the Debian package `wordnet-base` (/usr/share/wordnet; override with
the WORDNET_DIR environment variable). Its index.* / data.* files are read directly: nltk's
corpus reader refuses paths outside its own data directories, and nothing is downloaded.

Each augmented copy of a row gets synonyms for some eligible words (probability
augment.synonym_replace_prob per word; most frequent senses only) and, with probability
augment.paraphrase_prob, one paraphrase rule (polite or terse reframing, moving a condition
clause, putting the request before its context, lower-casing, dropping the final mark).
Retries of a copy that came out unchanged use more synonyms and always a paraphrase.
Code blocks, inline code and code-like tokens are never touched. A copy is dropped, and
counted, when it equals its source, another training text, or any val/test text (compared
with `clean.dedupe_key`). Every train row gets the same number of copies, so the intent mix
stays; the split grows to about augment.multiplier times its size.
"""

from __future__ import annotations

import os
import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.progress import progress_bar

from pipeline.data.clean import clean_text, dedupe_key, split_code_segments

DEFAULT_WORDNET_DIR = "/usr/share/wordnet"
WORDNET_ENV = "WORDNET_DIR"
_POS_FILES = {"n": "noun", "v": "verb", "a": "adj", "r": "adv"}
_SENSES_USED = 1  # synonyms only from a word's most frequent sense: rarer ones change the meaning
_ATTEMPTS_PER_COPY = 3  # tries per wanted copy before giving up (short texts have few variants)

# function words and chat words WordNet lists with odd senses ("a" = vitamin A, "can" = tin can)
_STOPWORDS = set(
    """a an the and or but if then else so of to in on at by for with from into onto about as is are was
    were be been being am do does did done have has had having can could would should will shall may
    might must not no yes i me my mine you your yours he him his she her hers it its we us our they them
    their this that these those there here what which who whom whose when where why how all any some
    each every both few more most other such only own same than too very just also please hi hello hey
    thanks thank ok okay get got make made let lets one two three like want need know tell give take
    go going way thing things much many well still even really""".split()
)
_WORD = re.compile(r"[A-Za-z]+(?:'[a-z]+)?")
_CODE_LIKE = re.compile(r"`[^`\n]*`|\S*(?:[_/\\(){}\[\]<>=#@$]|\w\.\w)\S*")


class WordNetMissingError(FileNotFoundError):
    """WordNet data is not installed where we look."""


class WordNet:
    """Synonyms from the WordNet 3.0 database files (index.<pos> and data.<pos>)."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root or os.environ.get(WORDNET_ENV) or DEFAULT_WORDNET_DIR)
        missing = [
            f"{kind}.{name}" for name in _POS_FILES.values() for kind in ("index", "data")
            if not (self.root / f"{kind}.{name}").is_file()
        ]  # fmt: skip
        if missing:
            raise WordNetMissingError(
                f"WordNet 3.0 not found in {self.root} (missing {', '.join(missing)}): run `make system-deps` "
                f"(Debian package wordnet-base) or set {WORDNET_ENV} to a directory holding index.* and data.*"
            )
        # lemma -> [(tagged sense count, pos, [synset offsets])]
        self._index: dict[str, list[tuple[int, str, list[int]]]] = {}
        for pos, name in _POS_FILES.items():
            with (self.root / f"index.{name}").open(encoding="utf-8") as fh:
                for line in fh:
                    if line.startswith(" "):
                        continue  # licence header
                    parts = line.split()
                    n_synsets, n_pointers = int(parts[2]), int(parts[3])
                    tagged = int(parts[5 + n_pointers])
                    offsets = [int(o) for o in parts[6 + n_pointers : 6 + n_pointers + n_synsets]]
                    self._index.setdefault(parts[0], []).append((tagged, pos, offsets))
        self._data = {pos: (self.root / f"data.{name}").read_bytes() for pos, name in _POS_FILES.items()}
        self._cache: dict[str, list[str]] = {}

    def _synset_words(self, pos: str, offset: int) -> list[str]:
        data = self._data[pos]
        line = data[offset : data.index(b"\n", offset)].decode("utf-8").split()
        n_words = int(line[3], 16)
        words = line[4 : 4 + 2 * n_words : 2]
        return [re.sub(r"\(.*\)$", "", w).replace("_", " ") for w in words]

    def is_inflected(self, word: str) -> bool:
        """True when word looks like an inflection of another lemma (works, tested, crashing)."""
        stems = []
        if word.endswith("s"):
            stems += [word[:-1], word[:-2]]
        if word.endswith("ed"):
            stems += [word[:-2], word[:-1]]
        if word.endswith("ing"):
            stems += [word[:-3], word[:-3] + "e"]
        return any(stem in self._index for stem in stems)

    def synonyms(self, word: str) -> list[str]:
        """Single- or two-word synonyms of a lower-case lemma, from its most used part of speech."""
        if word not in self._cache:
            entries = self._index.get(word, [])
            found: list[str] = []
            if entries:
                _, pos, offsets = max(entries, key=lambda e: e[0])
                for offset in offsets[:_SENSES_USED]:
                    for lemma in self._synset_words(pos, offset):
                        ok = (
                            lemma.lower() != word
                            and lemma.islower()
                            and "'" not in lemma
                            and len(lemma.split()) <= 2
                        )
                        if ok and lemma not in found:
                            found.append(lemma)
            self._cache[word] = found
        return self._cache[word]


_WORDNET: WordNet | None = None


def load_wordnet() -> WordNet:
    """The process-wide WordNet (reading the index takes about a second)."""
    global _WORDNET
    if _WORDNET is None:
        _WORDNET = WordNet()
    return _WORDNET


def _replace_synonyms(
    prose: str, wordnet: WordNet, prob: float, protected: set[str], rng: random.Random
) -> str:
    out, pos = [], 0
    for code in _CODE_LIKE.finditer(prose):  # only the words between code-like tokens are eligible
        out.append(_replace_in_words(prose[pos : code.start()], wordnet, prob, protected, rng))
        out.append(code.group(0))
        pos = code.end()
    out.append(_replace_in_words(prose[pos:], wordnet, prob, protected, rng))
    return "".join(out)


def _replace_in_words(
    chunk: str, wordnet: WordNet, prob: float, protected: set[str], rng: random.Random
) -> str:
    def swap(match: re.Match) -> str:
        word = match.group(0)
        lower = word.lower()
        if (
            len(word) < 4
            or lower in _STOPWORDS
            or lower in protected
            or (word[0].isupper() and match.start() > 0)
        ):
            return word  # capitalised mid-text words are names
        if rng.random() >= prob:
            return word
        options = [] if wordnet.is_inflected(lower) else wordnet.synonyms(lower)
        if not options:
            return word
        choice = rng.choice(options)
        return choice[0].upper() + choice[1:] if word[0].isupper() else choice

    return _WORD.sub(swap, chunk)


_IMPERATIVE = re.compile(
    r"^(write|create|make|generate|give|list|explain|describe|summari[sz]e|translate|convert|fix|"
    r"refactor|implement|build|design|plan|draft|compose|analy[sz]e|compare|calculate|solve|find|show|"
    r"tell|help|suggest|recommend|outline|prepare|organi[sz]e|rewrite|improve|check|review|prove|"
    r"determine|identify|estimate|provide|produce|develop|brainstorm|break)\b",
    re.I,
)
_CAN_YOU = re.compile(r"^(?:can|could|would|will) you(?: please)? (.+?)\??$", re.I | re.S)
_PLEASE = re.compile(r"^please,? (.+)$", re.I | re.S)
_CONDITION = re.compile(
    r"^(if|when|before|after|since|because|once) ([^,.!?\n]{3,80}), ([^.!?\n]{3,}?)([.!?]?)$", re.I
)
_SENTENCES = re.compile(r"(?<=[.!?:])\s+(?=\S)")


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def _paraphrase(text: str, rng: random.Random) -> str | None:
    """One applicable rule-based paraphrase of plain prose (no code), or None."""
    candidates = []
    if m := _CAN_YOU.match(text):
        candidates.append(_upper_first(m.group(1).rstrip(" ?")) + ".")
    if m := _PLEASE.match(text):
        candidates.append(_upper_first(m.group(1)))
    if _IMPERATIVE.match(text):
        body = text[0].lower() + text[1:]
        candidates.append("Please " + body)
        candidates.append("Could you " + body.rstrip(".!") + "?")
        candidates.append("I need you to " + body)
    if m := _CONDITION.match(text):
        candidates.append(f"{_upper_first(m.group(3))} {m.group(1).lower()} {m.group(2)}{m.group(4) or '.'}")
    sentences = _SENTENCES.split(text)
    if len(sentences) >= 2 and sentences[-1].rstrip().endswith("?") and not sentences[0].endswith(":"):
        candidates.append(" ".join([sentences[-1], *sentences[:-1]]))  # the question first, its context after
    if text != text.lower():
        candidates.append(text.lower().rstrip("."))  # people type like this
    if text[-1:] in ".!?" and len(text) > 1:
        candidates.append(text.rstrip(".!?"))  # ... and leave the final mark out
    return rng.choice(candidates) if candidates else None


def augment_text(
    text: str,
    wordnet: WordNet,
    rng: random.Random,
    synonym_prob: float,
    paraphrase_prob: float,
    protected: set[str],
) -> str:
    """One augmented variant of text; code segments are copied unchanged."""
    segments = split_code_segments(text)
    parts = [
        chunk if is_code else _replace_synonyms(chunk, wordnet, synonym_prob, protected, rng)
        for is_code, chunk in segments
    ]
    if not segments[0][0] and rng.random() < paraphrase_prob:
        # the rules work on one line of prose: the opening line, where the request usually is
        first, sep, rest = parts[0].partition("\n")
        parts[0] = (_paraphrase(first, rng) or first) + sep + rest if first.strip() else parts[0]
    return clean_text("\n".join(parts))


@dataclass
class AugmentResult:
    rows: list[dict]  # the original train rows followed by the kept augmented copies
    stats: dict[str, int] = field(default_factory=dict)


def augment_rows(train: list[dict], held_out_texts: list[str], params: dict, seed: int) -> AugmentResult:
    """Grow the train split to about multiplier x its size; never emit a val/test text."""
    cfg = params.get("augment", {})
    rows = list(train)
    target_new = (
        round((float(cfg.get("multiplier", 1)) - 1.0) * len(train)) if cfg.get("enabled", True) else 0
    )
    stats = {"original": len(train), "target_new": target_new, "added": 0, "dropped_unchanged": 0,
             "dropped_duplicate": 0, "dropped_in_val_test": 0}  # fmt: skip
    if target_new <= 0 or not train:
        return AugmentResult(rows, stats)
    wordnet = load_wordnet()
    rng = random.Random(seed)
    protected = {w.lower() for w in cfg.get("protected_words", [])}
    held_out = {dedupe_key(t) for t in held_out_texts}
    seen = {dedupe_key(r["text"]) for r in train}
    # every row gets the same number of copies (the fraction goes to a seeded subset), so the
    # intent mix of train stays as it was; short texts that yield no new variant fall short.
    copies = [int(target_new // len(train))] * len(train)
    for i in rng.sample(range(len(train)), target_new - sum(copies)):
        copies[i] += 1
    syn_prob, para_prob = float(cfg.get("synonym_replace_prob", 0.15)), float(cfg.get("paraphrase_prob", 0.5))
    with progress_bar(total=target_new, desc="augment", unit="row") as bar:
        for source, n_copies in zip(train, copies, strict=True):
            for _ in range(n_copies):
                for attempt in range(_ATTEMPTS_PER_COPY):
                    # retries push harder: more synonyms, always a paraphrase
                    variant = augment_text(
                        source["text"], wordnet, rng, min(1.0, syn_prob * (1 + attempt)),
                        para_prob if attempt == 0 else 1.0, protected,
                    )  # fmt: skip
                    key = dedupe_key(variant)
                    if not variant or key == dedupe_key(source["text"]):
                        stats["dropped_unchanged"] += 1
                    elif key in held_out:
                        stats["dropped_in_val_test"] += 1
                    elif key in seen:
                        stats["dropped_duplicate"] += 1
                    else:
                        seen.add(key)
                        rows.append({**source, "text": variant, "augmented": True})
                        stats["added"] += 1
                        bar.update(1)
                        break
    return AugmentResult(rows, stats)
