"""Batch prediction on a tiny model: input order kept, windows/bucketing do not change answers,
bad rows reported with their line, each input format, the API's fields, exit codes."""

from __future__ import annotations

import json

import pytest

from handlers import intent_handler as ih
from pipeline.modeling.batch_predict import BatchPredictor, errors_path, predict_file, read_rows
from scripts import predict as predict_script
from tests.conftest import TINY_ROWS
from tests.serving_helpers import build_tiny_model_dir, make_context, set_requests

TEXTS = [t for rows in TINY_ROWS.values() for t in rows]


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tiny_encoder_dir, params):
    return build_tiny_model_dir(tiny_encoder_dir, tmp_path_factory.mktemp("model"), params, temperature=2.0)


@pytest.fixture(scope="module")
def batch(model_dir, params):
    return BatchPredictor(model_dir, params, model_version="1.0", batch_size=4)


def write_jsonl(path, texts):
    path.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    return path


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_order_kept_and_lines_numbered(batch, tmp_path):
    texts = sorted(TEXTS, key=len, reverse=True)  # the longest first: bucketing reorders them internally
    out = tmp_path / "p.jsonl"
    result = predict_file(batch, write_jsonl(tmp_path / "in.jsonl", texts), out, window=7)
    rows = read_jsonl(out)
    assert [r["line"] for r in rows] == list(range(1, len(texts) + 1))
    assert rows == [{"line": i + 1, **a} for i, a in enumerate(batch.answers(texts))]  # one by one, in order
    assert (result.rows, result.predicted, result.bad) == (len(texts), len(texts), 0)
    assert not errors_path(out).exists()


def test_bucketing_does_not_change_answers(batch, tmp_path):
    source = write_jsonl(tmp_path / "in.jsonl", TEXTS)
    singles, bucketed = tmp_path / "one.jsonl", tmp_path / "all.jsonl"
    predict_file(batch, source, singles, window=1)
    predict_file(batch, source, bucketed, window=len(TEXTS))
    for one, many in zip(read_jsonl(singles), read_jsonl(bucketed), strict=True):
        assert one["intent"] == many["intent"] and one["complexity"]["level"] == many["complexity"]["level"]
        assert one["all_intents"] == pytest.approx(many["all_intents"], abs=1e-5)


def test_bad_rows_reported_with_line_and_skipped(batch, tmp_path, capsys):
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"text": "Write a poem about rain"}\n'
        '{"text": "broken\n'
        '{"prompt": "no text field"}\n'
        '{"text": "   "}\n'
        + json.dumps({"text": "x" * 5001}) + "\n"
        '{"text": "Translate hello into French"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "p.jsonl"
    result = predict_file(batch, source, out)
    assert [r["line"] for r in read_jsonl(out)] == [1, 6]
    errors = read_jsonl(errors_path(out))
    assert [e["line"] for e in errors] == [2, 3, 4, 5]
    assert "not valid JSON" in errors[0]["error"] and "5001 characters" in errors[3]["error"]
    assert all(e["file"] == str(source) for e in errors)
    stderr = capsys.readouterr().err
    assert f"{source}:2: not valid JSON" in stderr and f"{source}:4: 'text' is empty" in stderr
    assert (result.rows, result.predicted, result.bad) == (6, 2, 4)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("in.jsonl", '{"text": "first"}\n\n{"text": "second", "id": 7}\n', [(1, "first"), (3, "second")]),
        ("in.csv", 'id,text\n1,first\n2,"second\nspans two lines"\n3,third\n',
         [(2, "first"), (3, "second\nspans two lines"), (5, "third")]),
        ("in.txt", "first\nsecond\n", [(1, "first"), (2, "second")]),
    ],
)
def test_each_input_format(tmp_path, name, content, expected):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    rows = list(read_rows(path, max_chars=5000))
    assert [(r.line, r.text) for r in rows] == expected and all(r.error is None for r in rows)


def test_undecodable_bytes_are_a_bad_row_not_a_stop(tmp_path):
    path = tmp_path / "in.txt"
    path.write_bytes(b"first\nbad \xff byte\nthird\n")
    rows = list(read_rows(path, max_chars=5000))
    assert [r.line for r in rows] == [1, 2, 3]
    assert rows[0].text == "first" and rows[2].text == "third" and "surrogate" in rows[1].error


def test_fields_equal_the_handlers_answer(batch, model_dir, params):
    torch_params = {**params, "serve": {**params["serve"], "runtime": "torch"}}
    handler = ih.IntentHandler()
    ctx = make_context(model_dir, torch_params)
    handler.initialize(ctx)
    handler.settings["redis_url"] = None
    set_requests(ctx, [{"Content-Type": "application/json", "explain": "False"}])
    served = handler.handle([{"body": json.dumps({"texts": TEXTS}).encode()}], ctx)[0]
    assert isinstance(served, list), served
    mine = batch.answers(TEXTS)
    for api, offline in zip(served, mine, strict=True):
        assert set(api) == set(offline)
        assert {k: api[k] for k in ("intent", "suggested_techniques", "model_version", "cached")} == \
               {k: offline[k] for k in ("intent", "suggested_techniques", "model_version", "cached")}
        assert offline["all_intents"] == pytest.approx(api["all_intents"], abs=1e-5)
        assert offline["complexity"]["level"] == api["complexity"]["level"]
        assert [t["intent"] for t in offline["top_intents"]] == [t["intent"] for t in api["top_intents"]]


def test_script_exit_codes(model_dir, tmp_path):
    good = write_jsonl(tmp_path / "good.jsonl", TEXTS[:3])
    out = tmp_path / "out.jsonl"
    assert predict_script.main(["--input", str(good), "--output", str(out), "--model", str(model_dir)]) == 0
    assert len(read_jsonl(out)) == 3
    bad = tmp_path / "bad.txt"
    bad.write_text("a prompt\n\n", encoding="utf-8")
    assert predict_script.main(["--input", str(bad), "--output", str(out), "--model", str(model_dir)]) == 1
    assert [e["line"] for e in read_jsonl(errors_path(out))] == [2]
    assert predict_script.main(["--input", str(tmp_path / "x.xml"), "--output", str(out), "--model", str(model_dir)]) == 2
    assert predict_script.main(["--input", str(good), "--output", str(out), "--model", str(tmp_path / "none")]) == 2
    with pytest.raises(SystemExit) as exc:
        predict_script.main(["--input", str(good), "--output", str(out), "--batch-size", "0"])
    assert exc.value.code == 2


def test_unreadable_csv_exits_2_and_leaves_no_partial_file(model_dir, tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("id,prompt\n1,hello\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert predict_script.main(["--input", str(source), "--output", str(out), "--model", str(model_dir)]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
