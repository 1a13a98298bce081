"""Ingestion: every accepted format, and each bad file of issue 3 gives its documented error."""

from __future__ import annotations

import json

import pytest

from pipeline.data.ingest import (
    DataValidationError,
    load_labelled_file,
    load_labelled_records,
    read_jsonl,
    write_jsonl,
)


def _good(i: int, intent: str = "translation") -> dict:
    return {"text": f"Translate sentence number {i} into French", "intent": intent, "complexity": "simple"}


def test_jsonl_json_list_json_object_and_csv_give_the_same_rows(tmp_path, params, tiny_rows):
    rows = tiny_rows[:6]
    write_jsonl(tmp_path / "a.jsonl", rows)
    (tmp_path / "b.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    (tmp_path / "c.json").write_text(json.dumps({"meta": {"v": 1}, "rows": rows}), encoding="utf-8")
    import csv

    with (tmp_path / "d.csv").open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["id", "text", "intent", "complexity"])
        writer.writeheader()
        writer.writerows({"id": i, **r} for i, r in enumerate(rows))
    for name in ("a.jsonl", "b.json", "c.json", "d.csv"):
        got, rejects = load_labelled_file(tmp_path / name, params)
        assert rejects == [], name
        assert got == rows, name


def test_write_read_jsonl_roundtrip_keeps_unicode(tmp_path):
    rows = [{"text": 'Übersetze 日本語 "quoted"\nline2', "intent": "translation"}]
    assert write_jsonl(tmp_path / "x" / "r.jsonl", rows) == 1
    assert "日本語" in (tmp_path / "x" / "r.jsonl").read_text(encoding="utf-8")
    assert read_jsonl(tmp_path / "x" / "r.jsonl") == rows


def test_empty_file_is_a_file_level_error(tmp_path, params):
    for name in ("empty.jsonl", "empty.csv", "empty.json"):
        (tmp_path / name).write_text("  \n", encoding="utf-8")
        with pytest.raises(DataValidationError, match=rf"{name}: file is empty"):
            load_labelled_file(tmp_path / name, params)


def test_bad_json_on_line_37_of_a_jsonl_file_is_reported_with_its_line(tmp_path, params):
    lines = [json.dumps(_good(i)) for i in range(1, 41)]
    lines[36] = '{"text": "broken row", "intent": '
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows, rejects = load_labelled_file(path, params)
    assert len(rows) == 39
    assert len(rejects) == 1
    assert rejects[0]["line"] == 37
    assert rejects[0]["file"] == str(path)
    assert rejects[0]["reason"].startswith("bad JSON")
    assert "broken row" in rejects[0]["raw"]
    with pytest.raises(DataValidationError, match=r"bad\.jsonl:37: bad JSON") as info:
        load_labelled_file(path, params, strict=True)
    assert [r["line"] for r in info.value.rejects] == [37]


def test_bad_json_on_line_37_of_a_json_document_names_the_line(tmp_path, params):
    lines = json.dumps([_good(i) for i in range(12)], indent=2).split("\n")  # 5 lines per row after "["
    assert lines[36].strip() == "{"
    lines[36] = "  { oops"
    path = tmp_path / "bad.json"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"bad\.json:37: bad JSON"):
        load_labelled_file(path, params)


def test_json_elements_carry_their_start_line(tmp_path, params):
    path = tmp_path / "rows.json"
    path.write_text(
        '{"data": [\n' + json.dumps(_good(1)) + ",\n\n" + json.dumps({"text": "x"}) + "\n]}", encoding="utf-8"
    )
    records, rejects = load_labelled_records(path, params)
    assert [line for line, _ in records] == [2]
    assert rejects[0]["line"] == 4 and rejects[0]["reason"] == "missing field 'intent'"


def test_csv_missing_column_is_a_file_level_error(tmp_path, params):
    path = tmp_path / "nolabel.csv"
    path.write_text("text,label\nhello there,conversation\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"nolabel\.csv:1: missing required column\(s\) 'intent'"):
        load_labelled_file(path, params)


def test_unknown_label_is_rejected_with_the_allowed_labels(tmp_path, params):
    path = tmp_path / "labels.csv"
    path.write_text(
        "text,intent,complexity\nWrite a haiku,creative_writing,simple\nWhat is 2+2,maths,simple\n"
        "Hi,conversation,trivial\n",
        encoding="utf-8",
    )
    rows, rejects = load_labelled_file(path, params)
    assert [r["text"] for r in rows] == ["Write a haiku"]
    assert [(r["line"], r["reason"].split(" (")[0]) for r in rejects] == [
        (3, "unknown intent 'maths'"),
        (4, "unknown complexity 'trivial'"),
    ]
    assert "question_answering" in rejects[0]["reason"]


def test_one_megabyte_text_is_rejected_as_too_long(tmp_path, params):
    path = tmp_path / "big.jsonl"
    rows = [_good(1), {"text": "a" * 1_000_000, "intent": "summarization"}, _good(3)]
    write_jsonl(path, rows)
    good, rejects = load_labelled_file(path, params)
    assert len(good) == 2
    assert rejects[0]["line"] == 2
    limit = params["data"]["max_text_chars"]
    assert rejects[0]["reason"] == f"text too long: 1000000 characters (max {limit})"
    assert len(rejects[0]["raw"]) < 1000  # the report keeps a preview, not the megabyte


def test_latin1_bytes_are_reported_on_their_line(tmp_path, params):
    path = tmp_path / "latin1.jsonl"
    body = [
        json.dumps(_good(1)).encode(),
        '{"text": "Traduis café en anglais", "intent": "translation"}'.encode("latin-1"),
        json.dumps(_good(3)).encode(),
    ]
    path.write_bytes(b"\n".join(body) + b"\n")
    good, rejects = load_labelled_file(path, params)
    assert len(good) == 2
    assert rejects[0]["line"] == 2
    assert rejects[0]["reason"].startswith("bad encoding: not UTF-8: byte 0xe9 on line 2")
    csv_path = tmp_path / "latin1.csv"
    csv_path.write_bytes(
        b"text,intent\nok row,conversation\n" + "caf\xe9 au lait,translation\n".encode("latin-1")
    )
    good, rejects = load_labelled_file(csv_path, params)
    assert len(good) == 1 and rejects[0]["line"] == 3 and "byte 0xe9 on line 3" in rejects[0]["reason"]


def test_wrong_types_empty_text_and_non_objects(tmp_path, params):
    path = tmp_path / "types.jsonl"
    lines = [
        json.dumps({"text": 42, "intent": "reasoning"}),
        json.dumps({"text": "   ", "intent": "reasoning"}),
        json.dumps(["a list", "reasoning"]),
        json.dumps({"text": "Plan my week", "intent": " Task_Planning "}),
        json.dumps({"text": "Plan my day", "intent": "task_planning", "complexity": 3}),
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    good, rejects = load_labelled_file(path, params)
    assert good[0]["intent"] == "task_planning"
    assert good[0]["complexity"] in params["complexity_levels"]  # derived when absent
    assert [(r["line"], r["reason"]) for r in rejects] == [
        (1, "wrong type: field 'text' must be a string, got int"),
        (2, "empty text"),
        (3, "wrong type: expected an object with text/intent, got list"),
        (5, "wrong type: field 'complexity' must be a string, got int"),
    ]


def test_unsupported_suffix_and_missing_file(tmp_path, params):
    (tmp_path / "x.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(DataValidationError, match="unsupported file type"):
        load_labelled_file(tmp_path / "x.txt", params)
    with pytest.raises(DataValidationError, match="file not found"):
        load_labelled_file(tmp_path / "nope.jsonl", params)
