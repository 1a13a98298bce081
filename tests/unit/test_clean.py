"""Cleaning: normalisation rules, code blocks intact, idempotence (property), dedupe and conflicts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.data.clean import clean_text, dedupe, dedupe_key, split_code_segments


def test_nfkc_whitespace_and_control_characters():
    raw = "  Ｗｒｉｔｅ\u00a0a   poem\tabout\x00 the ﬁre\u200b place \r\n\r\n\r\n\r\nin  two lines\x07  "
    assert clean_text(raw) == "Write a poem about the fire place\n\nin two lines"


def test_fenced_and_indented_code_blocks_are_kept_byte_for_byte():
    fenced = "```python\ndef f(x):\n\n\n    return  x  *  2   \n```"
    indented = "    for i in range(3):\n        print(i,   i)"
    raw = f"Fix   this   code:\n{fenced}\nand   this one:\n\n{indented}\n\nThanks   a lot"
    cleaned = clean_text(raw)
    assert fenced in cleaned
    assert indented in cleaned
    assert cleaned.startswith("Fix this code:\n") and cleaned.endswith("\n\nThanks a lot")


def test_unclosed_fence_runs_to_the_end():
    raw = "see:\n~~~\n  a   b\n\n\n\n  c"
    assert clean_text(raw) == raw
    assert [is_code for is_code, _ in split_code_segments(raw)] == [False, True]


def test_segments_join_back_to_the_input():
    text = "intro\n\n    code\n    more\ntext\n```\nx\n```\nend"
    assert "\n".join(chunk for _, chunk in split_code_segments(text)) == text


_PIECES = st.sampled_from(
    list("ab Z\n\t`~#é\u0301\u00a0\u2028\r\x00\x1f\u200bﬁ｀")
    + ["    ", "```", "~~~", "\n\n", "```py\n", "\t```"]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(), st.lists(_PIECES, max_size=40).map("".join)))
def test_clean_text_is_idempotent(text):
    once = clean_text(text)
    assert clean_text(once) == once


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_clean_text_leaves_no_control_characters_or_edge_whitespace(text):
    cleaned = clean_text(text)
    assert cleaned == cleaned.strip()
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in cleaned)


def test_dedupe_keeps_first_and_removes_conflicting_groups():
    rows = [
        {"text": "Hello there", "intent": "conversation", "line": 1},
        {"text": "hello   THERE", "intent": "conversation", "line": 2},
        {"text": "Sort a list", "intent": "code_generation", "line": 3},
        {"text": "sort a list", "intent": "task_planning", "line": 4},
        {"text": "Plan a trip", "intent": "task_planning", "line": 5},
    ]
    result = dedupe(rows)
    assert [r["line"] for r in result.rows] == [1, 5]
    assert [(d["line"], d["duplicate_of"]) for d in result.duplicates] == [(2, 1)]
    assert [c["line"] for c in result.conflicts] == [3, 4]
    assert result.conflicts[0]["intents_seen"] == ["code_generation", "task_planning"]
    assert len(result.rows) + len(result.duplicates) + len(result.conflicts) == len(rows)
    assert dedupe_key(" A\n b ") == dedupe_key("a b")
