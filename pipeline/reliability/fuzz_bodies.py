"""Seeded hostile request bodies for the prediction endpoint (`make reliability`, fuzz tests).

Each body says what a hardened server must do with it: `refused` bodies are larger than the
server's max_request_size and must be refused by TorchServe itself (413, before any Python
runs); `valid` bodies are well-formed prompts that must be answered (200); everything else
must get a client error (4xx) or an answer, never a 5xx and never a worker crash.

Kinds (cycled by WEIGHTS, so every kind appears in any run of at least len(CYCLE) bodies):
random bytes, huge bodies over the limit, deep JSON, wrong JSON types, Unicode edge cases
(lone surrogates, BOM, control and zero-width characters, NFKC expansions, limits +-1),
empty bodies, and valid prompts as controls.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass

KINDS = ("random_bytes", "huge", "deep_json", "wrong_types", "unicode", "empty", "valid")
# how often each kind comes up in one cycle: huge bodies are ~1 MB each, so they are rarer
WEIGHTS = {"random_bytes": 4, "huge": 1, "deep_json": 3, "wrong_types": 4, "unicode": 5, "empty": 2, "valid": 2}
CYCLE = tuple(kind for kind in KINDS for _ in range(WEIGHTS[kind]))
CONTENT_TYPES = (None, "application/json", "text/plain", "application/octet-stream", "application/json; charset=utf-8")
VALID_PROMPTS = (
    "Write a Python function that reverses a linked list",
    "Summarize this article in three bullet points",
    "Translate 'good morning' into Spanish",
    "Plan a 3 day trip to Rome with a budget",
)


@dataclass(frozen=True)
class FuzzBody:
    kind: str
    body: bytes
    content_type: str | None
    expect: str  # "refused" (over max_request_size), "valid" (must answer 200) or "any_non_5xx"


def _deep_json(rng: random.Random) -> str:
    depth = rng.choice([64, 1_000, 10_000, 100_000])
    if rng.random() < 0.5:
        nested = "[" * depth + "]" * depth
    else:
        nested = '{"a":' * depth + "1" + "}" * depth
    return rng.choice([nested, '{"text": ' + nested + "}", '{"texts": [' + nested + "]}"])


def _wrong_types(rng: random.Random) -> str:
    value = rng.choice([
        {"text": 5}, {"text": None}, {"text": True}, {"text": ["a list"]}, {"text": {"nested": "x"}},
        {"texts": "not a list"}, {"texts": [1, None, {}, [], "ok"]}, {"texts": []}, {"texts": None},
        {"texts": ["x"] * 101}, {"text": "a", "texts": ["b"]}, {}, {"prompt": "wrong key"},
        {"text": "hello", "n_steps": "many"}, {"text": "hello", "target_intent": 7},
        {"text": "hello", "target_intent": ["code_generation"]}, [1, 2, 3], ["text"], 3.14, True, None,
        "a bare JSON string", {"text": 1e308}, {"text": "x", "extra": "y" * 1000},
    ])
    return json.dumps(value)


def _unicode(rng: random.Random, max_chars: int) -> bytes:
    choice = rng.randrange(12)
    if choice == 0:  # lone surrogates, escaped in JSON (valid JSON, not encodable text)
        return json.dumps({"text": "prompt \ud800 with \udfff lone surrogates"}).encode()
    if choice == 1:  # byte order mark before the JSON
        return "\ufeff".encode() + json.dumps({"text": "BOM first"}).encode()
    if choice == 2:  # NUL, C0/C1 controls and bidi overrides
        text = "a\x00b\x07c\x1b[31m\u202etxet\u202c\x85end"
        return json.dumps({"text": text}, ensure_ascii=rng.random() < 0.5).encode()
    if choice == 3:  # zero-width and whitespace-like characters only
        return json.dumps({"text": "\u200b\u200c\u200d\u2060\ufeff\u3000\u00a0"}).encode()
    if choice == 4:  # NFKC expands U+FDFA to 18 characters: the limit is on the sent text
        return json.dumps({"text": "\ufdfa" * min(max_chars, 3000)}).encode()
    if choice == 5:  # exactly at, and one over, the character limit
        return json.dumps({"text": "x" * (max_chars + rng.choice([0, 1]))}).encode()
    if choice == 6:  # combining marks stacked on one letter
        return json.dumps({"text": "e" + "\u0301" * rng.choice([10, 1000, 4000])}).encode()
    if choice == 7:  # emoji ZWJ sequences, astral planes, private use, non-characters
        return json.dumps({"text": "\U0001f469\u200d\U0001f4bb \U0001d54f\U000f0000 \uffff\ufffe"}, ensure_ascii=False).encode()
    if choice == 8:  # overlong and truncated UTF-8 sequences as raw text
        return b"prompt \xc0\xaf \xe2\x82 \xf0\x9f\x98"
    if choice == 9:  # latin-1 bytes that are not UTF-8
        return "caf\u00e9 cr\u00e8me".encode("latin-1")
    if choice == 10:  # right-to-left and mixed scripts
        return json.dumps({"text": "\u0645\u0631\u062d\u0628\u0627 \u4f60\u597d \u043f\u0440\u0438\u0432\u0435\u0442 hello"}, ensure_ascii=False).encode()
    return json.dumps({"texts": ["\ud83d", "fine", "\u0000"]}).encode()  # a bad element inside a list


def _empty(rng: random.Random) -> bytes:
    return rng.choice([b"", b" ", b"\n\t ", b"{}", b"[]", b"null", b'{"text": ""}', b'{"text": "   "}', b'""'])


def fuzz_bodies(n: int, seed: int, max_request_size: int, max_chars: int = 5000) -> list[FuzzBody]:
    """n bodies, the same for the same seed; kinds cycle, their content is drawn from `seed`."""
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    rng = random.Random(seed)
    bodies = []
    for i in range(n):
        kind = CYCLE[i % len(CYCLE)]
        content_type = rng.choice(CONTENT_TYPES)
        expect = "any_non_5xx"
        if kind == "random_bytes":
            body = rng.randbytes(rng.choice([1, 16, 256, 4096, 65536]))
        elif kind == "huge":
            # TorchServe refuses what exceeds max_request_size; a few bodies a bit over, one far over
            body = b"a" * (max_request_size + rng.choice([1, 1024, max_request_size]))
            if rng.random() < 0.5:
                body = b'{"text": "' + body + b'"}'
            expect = "refused"
        elif kind == "deep_json":
            body, content_type = _deep_json(rng).encode(), rng.choice([None, "application/json"])
        elif kind == "wrong_types":
            body, content_type = _wrong_types(rng).encode(), "application/json"
        elif kind == "unicode":
            body = _unicode(rng, max_chars)
        elif kind == "empty":
            body = _empty(rng)
        else:
            text = rng.choice(VALID_PROMPTS)
            if rng.random() < 0.5:
                body, content_type = json.dumps({"text": text}).encode(), "application/json"
            else:
                body, content_type = text.encode(), "text/plain"
            expect = "valid"
        bodies.append(FuzzBody(kind=kind, body=body, content_type=content_type, expect=expect))
    return bodies
