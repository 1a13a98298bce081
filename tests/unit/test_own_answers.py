"""The worker-kill scenario's check that every call got the answer for its own text."""

from __future__ import annotations

from pipeline.reliability.scenarios import Call, own_answers, summarize

REFERENCE = {"a": {"x": 0.9, "y": 0.1}, "b": {"x": 0.2, "y": 0.8}}


def answered(text: str, all_intents: dict, attempts: int = 1) -> Call:
    return Call(text, 0.0, 1.0, 200, attempts, all_intents=all_intents)


def test_an_answer_meant_for_another_text_is_counted():
    calls = [answered("a", {"x": 0.9, "y": 0.1}), answered("b", {"x": 0.9, "y": 0.1}), answered("b", {"x": 0.21, "y": 0.79})]
    r = own_answers(calls, REFERENCE)
    assert r["wrong_answers"] == 1
    assert r["reference_min_gap"] == 1.4


def test_retries_are_counted_apart_from_token_re_reads():
    calls = [answered("a", REFERENCE["a"], attempts=3), answered("b", REFERENCE["b"]),
             Call("a", 0.0, 1.0, 200, 2, token_rereads=1, all_intents=REFERENCE["a"])]
    r = summarize(calls, started=3)
    assert r["client_retries_done"] == 2 and r["retried"] == 1 and r["token_rereads"] == 1
