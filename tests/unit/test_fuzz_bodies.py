"""The fuzz-body generator: seeded, every kind present, over-size bodies over the limit and only
they; and the handler answers each body without raising (a raise is a 503 for a whole batch)."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from pipeline.reliability.fuzz_bodies import CYCLE, KINDS, WEIGHTS, fuzz_bodies

LIMIT = 1_048_576


def test_same_seed_same_bodies_other_seed_other_bodies():
    a, b, c = fuzz_bodies(200, 1, LIMIT), fuzz_bodies(200, 1, LIMIT), fuzz_bodies(200, 2, LIMIT)
    assert a == b
    assert [x.body for x in a] != [x.body for x in c]


def test_every_kind_in_one_cycle_and_weights_over_a_full_run():
    assert {b.kind for b in fuzz_bodies(len(CYCLE), 0, LIMIT)} == set(KINDS)
    counts = Counter(b.kind for b in fuzz_bodies(1000, 0, LIMIT))
    cycles = 1000 // len(CYCLE)
    for kind in KINDS:
        assert cycles * WEIGHTS[kind] <= counts[kind] <= (cycles + 1) * WEIGHTS[kind]


def test_only_huge_bodies_exceed_the_request_limit():
    bodies = fuzz_bodies(500, 3, LIMIT, max_chars=5000)
    for body in bodies:
        assert isinstance(body.body, bytes)
        if body.kind == "huge":
            assert body.expect == "refused" and len(body.body) > LIMIT
        else:
            assert body.expect != "refused" and len(body.body) <= LIMIT
    assert all(b.expect == "valid" for b in bodies if b.kind == "valid")


def test_n_must_be_positive():
    with pytest.raises(ValueError, match="n must be >= 1"):
        fuzz_bodies(0, 0, LIMIT)


def test_bodies_cover_the_hostile_shapes():
    bodies = [b.body for b in fuzz_bodies(1000, 0, LIMIT)]
    assert any(b == b"" for b in bodies)
    assert any(b.count(b"[") >= 10_000 or b.count(b'{"a":') >= 10_000 for b in bodies)  # deep JSON
    assert any(b"\\ud800" in b for b in bodies)  # escaped lone surrogate
    assert any(not _is_utf8(b) for b in bodies)
    assert any(b.startswith("\ufeff".encode()) for b in bodies)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_handler_answers_every_body_without_raising(tmp_path, params, tiny_encoder_dir):
    """Regression: deep JSON (RecursionError) and lone surrogates (UnicodeEncodeError) used to
    escape handle(). Every body gets one answer; valid prompts get a prediction."""
    from handlers.intent_handler import IntentHandler
    from tests.serving_helpers import build_tiny_model_dir, make_context, set_requests

    p = json.loads(json.dumps(params))
    p["serve"]["redis_url"] = None  # no cache here: this judges parsing and prediction
    p["serve"]["runtime"] = "torch"  # the tiny model dir has no ONNX export
    context = make_context(build_tiny_model_dir(tiny_encoder_dir, tmp_path / "model", p), p)
    handler = IntentHandler()
    handler.initialize(context)
    for body in fuzz_bodies(300, 0, LIMIT):
        if body.expect == "refused":  # TorchServe refuses these before Python runs
            continue
        set_requests(context, [{"Content-Type": body.content_type} if body.content_type else {}])
        answers = handler.handle([{"body": body.body}], context)
        assert len(answers) == 1
        if body.expect == "valid":
            assert answers[0]["intent"] in params["intents"], body
        elif isinstance(answers[0], dict) and "error" in answers[0]:
            assert 400 <= answers[0]["code"] < 500, (body, answers[0])
