"""The TorchServe handler on a tiny random model with TorchServe's own Context (no server), like
TorchServe's handler unit tests: request parsing, per-row statuses, response fields, calibration,
explanations, cache behaviour; plus the archive's input validation and the launcher's config."""

from __future__ import annotations

import asyncio
import inspect
import json
import shutil
import time

import numpy as np
import pytest

from handlers import intent_handler as ih
from model_src.responses import build_prediction
from model_src.runtime import length_buckets
from tests.serving_helpers import build_tiny_model_dir, make_context, set_requests

JSON = {"Content-Type": "application/json"}
TEXT = {"Content-Type": "text/plain"}


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory, tiny_encoder_dir, params):
    return build_tiny_model_dir(tiny_encoder_dir, tmp_path_factory.mktemp("model"), params, temperature=2.0)


@pytest.fixture(scope="module")
def torch_params(params):
    """The torch runtime: outputs comparable to pipeline.modeling.predict.Predictor to the last digit."""
    return {**params, "serve": {**params["serve"], "runtime": "torch"}}


@pytest.fixture(scope="module", params=["async", "sync"])
def handler(model_dir, torch_params, tmp_path_factory, request):
    """The handler in TorchServe's asynchronous mode (the archive's default) and in its synchronous one."""
    h = ih.IntentHandler()
    ctx = make_context(model_dir, torch_params)
    ctx.model_yaml_config["asyncCommunication"] = request.param == "async"
    h.initialize(ctx)
    h.settings["redis_url"] = None  # unit tests: no Redis unless a test sets a client
    h.explain_lock_dir = tmp_path_factory.mktemp("explain_slots")  # not /tmp, shared with other test runs
    return h


def run(handler, rows: list[tuple[dict, object]]):
    """handle() on a batch of (headers, body) rows -> (answers, [(status, phrase)])."""
    ctx = handler.context
    set_requests(ctx, [{**h, "explain": h.get("explain", "False")} for h, _ in rows])
    answers = handler.handle([{"body": body} for _, body in rows], ctx)
    if inspect.iscoroutine(answers):  # async mode: TorchServe's async worker awaits what handle returns
        answers = asyncio.run(answers)
    return answers, [ctx.get_response_status(i) for i in range(len(rows))]


# --- request parsing -----------------------------------------------------------------------

PARSE = dict(max_chars=20, max_texts=3, intents=["a", "b"], n_steps_default=5, n_steps_max=10, max_explain_texts=2)


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"text": "  hello  "}', "application/json", ["hello"]),
        (b"just a prompt", "text/plain", ["just a prompt"]),
        (b"just a prompt", None, ["just a prompt"]),
        (b'{"code": 1', "text/plain", ['{"code": 1']),
        (b'"a json string"', "application/json", ["a json string"]),
        (b'{"texts": ["x", "y"]}', None, ["x", "y"]),
        ({"text": "already decoded"}, "application/json", ["already decoded"]),
    ],
)
def test_parse_accepts(body, content_type, expected):
    assert ih.parse_request(body, content_type, **PARSE)["items"] == expected


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        (b'{"text": "unterminated', "application/json", "not valid JSON"),
        (b"\xff\xfe bad bytes", None, "not valid UTF-8"),
        (b"   ", "text/plain", "empty"),
        (b"x" * 21, "text/plain", "21 characters, the limit is 20"),
        (b'{"text": 5}', "application/json", "'text' must be a string, got int"),
        (b'{"texts": "one"}', "application/json", "'texts' must be a list"),
        (b'{"texts": []}', "application/json", "1..3 strings, got 0"),
        (b'{"texts": ["a", "b", "c", "d"]}', "application/json", "1..3 strings, got 4"),
        (b'{"text": "a", "texts": ["b"]}', "application/json", "exactly one of"),
        (b"[1, 2]", "application/json", "got list"),
        (b'{"prompt": "a"}', "application/json", "exactly one of"),
        (b'{"text": "a", "target_intent": "a"}', "application/json", "only accepted by /explanations"),
        (None, None, "no request body"),
    ],
)
def test_parse_rejects_with_reason(body, content_type, fragment):
    result = ih.parse_request(body, content_type, **PARSE)
    assert fragment in result["error"]


def test_parse_explain_options_are_bounded():
    ok = ih.parse_request(b'{"text": "a", "target_intent": "b", "n_steps": 10}', None, explain=True, **PARSE)
    assert (ok["target_intent"], ok["n_steps"]) == ("b", 10)
    assert "must be one of" in ih.parse_request(b'{"text": "a", "target_intent": "zz"}', None, explain=True, **PARSE)["error"]
    assert "1..10" in ih.parse_request(b'{"text": "a", "n_steps": 11}', None, explain=True, **PARSE)["error"]
    assert "1..10" in ih.parse_request(b'{"text": "a", "n_steps": true}', None, explain=True, **PARSE)["error"]
    assert "1..2 strings" in ih.parse_request(b'{"texts": ["a", "b", "c"]}', None, explain=True, **PARSE)["error"]


def test_bad_list_element_becomes_an_error_object():
    result = ih.parse_request(b'{"texts": ["fine", "", 7]}', None, **PARSE)
    assert result["items"][0] == "fine"
    assert result["items"][1] == {"error": "'texts[1]' is empty after trimming whitespace", "code": 400}
    assert "texts[2]" in result["items"][2]["error"]


# --- batching and response pieces ----------------------------------------------------------


def test_length_buckets_sort_and_bound_padding():
    lengths = [100, 5, 6, 90, 7, 140, 8]
    buckets = length_buckets(lengths, max_rows=3, max_ratio=1.5)
    assert sorted(i for b in buckets for i in b) == list(range(len(lengths)))
    for bucket in buckets:
        assert len(bucket) <= 3
        assert max(lengths[i] for i in bucket) <= 1.5 * min(lengths[i] for i in bucket)
    assert buckets[0] == [1, 2, 4]  # the three shortest together


def test_build_prediction_fields():
    probs = np.array([0.1, 0.6, 0.3])
    out = build_prediction(
        probs, np.array([0.2, 0.7, 0.1]), 0.42,
        intents=["qa", "code", "chat"], levels=["simple", "moderate", "complex"],
        techniques={"code": {"moderate": ["few_shot"]}}, model_version="3", low_confidence_threshold=0.65,
    )
    assert out["intent"] == "code" and out["confidence"] == 0.6
    assert out["complexity"] == {"level": "moderate", "score": 0.42}
    assert [t["intent"] for t in out["top_intents"]] == ["code", "chat", "qa"]
    assert out["all_intents"] == {"qa": 0.1, "code": 0.6, "chat": 0.3}
    assert out["suggested_techniques"] == ["few_shot"]
    assert (out["model_version"], out["cached"], out["low_confidence"]) == ("3", False, True)


def test_merge_subwords_sums_pieces_and_drops_specials():
    text = "unbelievable code"
    words = ih.merge_subwords([None, 0, 0, 1, None], [(0, 0), (0, 2), (2, 12), (13, 17), (0, 0)],
                              np.array([9.0, 0.25, 0.5, -0.5, 9.0]), text)
    assert words == [
        {"word": "unbelievable", "start": 0, "end": 12, "attribution": 0.75},
        {"word": "code", "start": 13, "end": 17, "attribution": -0.5},
    ]


def test_merge_subwords_drops_the_space_sentencepiece_counts_into_a_word():
    text = "Write a poem"  # DeBERTa-v3's fast tokenizer: "▁a" spans " a", "▁po" + "em" span " poem"
    words = ih.merge_subwords([None, 0, 1, 2, 2, None], [(0, 0), (0, 5), (5, 7), (7, 10), (10, 12), (0, 0)],
                              np.array([0.0, 0.1, 0.2, 0.3, 0.4, 0.0]), text)
    assert [(w["word"], w["start"], w["end"]) for w in words] == [("Write", 0, 5), ("a", 6, 7), ("poem", 8, 12)]


def test_cache_key_normalises_whitespace_and_carries_version():
    assert ih.cache_key("m", "1", "  Hello\n\tworld ") == ih.cache_key("m", "1", "Hello world")
    assert ih.cache_key("m", "1", "Hello world") != ih.cache_key("m", "2", "Hello world")
    assert ih.cache_key("m", "1", "Hello") != ih.cache_key("m", "1", "hello")


# --- the handler with a TorchServe Context ---------------------------------------------------


def test_single_prediction_is_calibrated_and_complete(handler, model_dir, params):
    from pipeline.modeling.predict import Predictor

    text = "Write a Python function that reverses a linked list"
    answers, statuses = run(handler, [(JSON, json.dumps({"text": text}).encode())])
    out = answers[0]
    assert statuses == [(200, None)]
    probs, level_probs, score = Predictor(model_dir).predict_proba([text])  # applies calibration.json too
    assert out["intent"] == params["intents"][int(probs[0].argmax())]
    assert out["confidence"] == pytest.approx(float(probs[0].max()), abs=1e-5)
    assert out["complexity"]["score"] == pytest.approx(float(score[0]), abs=1e-5)
    assert out["complexity"]["level"] == params["complexity_levels"][int(level_probs[0].argmax())]
    assert set(out["all_intents"]) == set(params["intents"])
    assert sum(out["all_intents"].values()) == pytest.approx(1.0, abs=1e-4)
    assert len(out["top_intents"]) == 3 and out["top_intents"][0]["intent"] == out["intent"]
    assert out["suggested_techniques"] == params["techniques"][out["intent"]][out["complexity"]["level"]]
    assert (out["model_version"], out["cached"]) == ("1.0", False)


def test_temperature_softens_confidence(handler):
    raw = handler.temperature
    try:
        handler.temperature = 1.0
        sharp = run(handler, [(TEXT, b"plan a trip to Rome")])[0][0]["confidence"]
        handler.temperature = raw  # 2.0 from calibration.json
        soft = run(handler, [(TEXT, b"plan a trip to Rome")])[0][0]["confidence"]
    finally:
        handler.temperature = raw
    assert soft < sharp


def test_mixed_batch_answers_each_row_with_its_own_status(handler):
    rows = [
        (JSON, b'{"text": "hello there"}'),
        (JSON, b'{"text": "broken'),
        (TEXT, b"  "),
        (JSON, json.dumps({"texts": ["first prompt", "", "third prompt"]}).encode()),
        (TEXT, b"x" * 5001),
        ({}, b"\xc3\x28 not utf8"),
        (TEXT, b"plain prompt as text"),
    ]
    answers, statuses = run(handler, rows)
    assert [code for code, _ in statuses] == [200, 400, 400, 200, 400, 400, 200]
    assert "not valid JSON" in answers[1]["error"] and answers[1]["code"] == 400
    assert "not valid JSON" in statuses[1][1]
    assert "5001 characters" in answers[4]["error"]
    assert "UTF-8" in answers[5]["error"]
    listed = answers[3]
    assert isinstance(listed, list) and len(listed) == 3
    assert listed[1] == {"error": "'texts[1]' is empty after trimming whitespace", "code": 400, "index": 1}
    assert listed[0]["intent"] in handler.intents and listed[2]["intent"] in handler.intents
    assert answers[0]["intent"] in handler.intents and answers[6]["intent"] in handler.intents


def test_batch_order_and_values_do_not_depend_on_bucketing(handler):
    texts = ["hi", "Summarize this long article about the history of the Roman empire in five points please",
             "fix my sql", "Translate the following paragraph into German and keep the formal tone throughout"]
    together = run(handler, [(JSON, json.dumps({"texts": texts}).encode())])[0][0]
    alone = [run(handler, [(TEXT, t.encode())])[0][0] for t in texts]
    for a, b in zip(together, alone, strict=True):
        assert a["intent"] == b["intent"]
        assert a["confidence"] == pytest.approx(b["confidence"], abs=1e-4)


def test_explain_and_predict_rows_share_a_batch(handler, params):
    text = "Please write a haiku about autumn rain"
    target = params["intents"][6]
    rows = [
        ({**JSON, "explain": "True"}, json.dumps({"text": text, "n_steps": 5}).encode()),
        (JSON, json.dumps({"text": text}).encode()),
        ({**JSON, "explain": "True"}, json.dumps({"text": text, "target_intent": target, "n_steps": 5}).encode()),
        ({**JSON, "explain": "True"}, json.dumps({"text": text, "n_steps": 500}).encode()),
    ]
    answers, statuses = run(handler, rows)
    assert [code for code, _ in statuses] == [200, 200, 200, 400]
    explained, predicted, targeted = answers[0], answers[1], answers[2]
    assert "explanation" not in predicted
    exp = explained["explanation"]
    assert exp["target_intent"] == explained["intent"] == predicted["intent"]
    assert exp["n_steps"] == 5
    assert [w["word"] for w in exp["words"]] == ["Please", "write", "a", "haiku", "about", "autumn", "rain"]
    assert all(np.isfinite(w["attribution"]) for w in exp["words"])
    assert targeted["explanation"]["target_intent"] == target
    assert "1..50" in answers[3]["error"]


class FakeRedis:
    """mget/pipeline/set like redis-py; `down` makes every call fail as a dead server would."""

    def __init__(self):
        self.store, self.down = {}, False

    def mget(self, keys):
        if self.down:
            raise ConnectionError("redis is down")
        return [self.store.get(k) for k in keys]

    def pipeline(self, transaction=False):
        if self.down:
            raise ConnectionError("redis is down")
        return self

    def set(self, key, value, ex=None):
        self.store[key] = value.encode()

    def execute(self):
        return []


def test_cache_hit_is_marked_and_redis_failure_is_not_an_error(handler):
    fake = FakeRedis()
    handler.settings["redis_url"], handler.redis, handler.redis_retry_at = "redis://fake", fake, 0.0
    try:
        first = run(handler, [(TEXT, b"what is the capital of France?")])[0][0]
        handler.cache_flush()  # results are written by a background thread
        second = run(handler, [(TEXT, b"  what is the   capital of France? ")])[0][0]
        assert (first["cached"], second["cached"]) == (False, True)
        assert {k: v for k, v in second.items() if k != "cached"} == {k: v for k, v in first.items() if k != "cached"}
        assert all(key.startswith("intent_classifier:1.0:") for key in fake.store)
        fake.down = True
        answers, statuses = run(handler, [(TEXT, b"what is the capital of Spain?")])
        assert statuses == [(200, None)] and answers[0]["cached"] is False
        assert handler.redis_retry_at > 0  # backing off instead of retrying on every request
    finally:
        handler.settings["redis_url"], handler.redis, handler.redis_retry_at = None, None, 0.0


def test_a_failed_background_cache_write_backs_off_without_failing_the_request(handler):
    class WriteFails(FakeRedis):
        def pipeline(self, transaction=False):
            raise ConnectionError("redis went away")

    handler.settings["redis_url"], handler.redis, handler.redis_retry_at = "redis://fake", WriteFails(), 0.0
    try:
        answers, statuses = run(handler, [(TEXT, b"how long does it take to boil an egg?")])
        assert statuses == [(200, None)] and answers[0]["cached"] is False
        handler.cache_flush()
        assert handler.redis_retry_at > time.monotonic()  # the writer thread reported the failure
        assert run(handler, [(TEXT, b"how long does it take to boil an egg?")])[0][0]["cached"] is False
    finally:
        handler.settings["redis_url"], handler.redis, handler.redis_retry_at = None, None, 0.0


def test_metrics_are_emitted_through_the_context(handler, caplog):
    import logging

    with caplog.at_level(logging.INFO):
        run(handler, [(TEXT, b"how are you today?"), (TEXT, b"")])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[METRICS]")]
    names = {line.split("[METRICS]")[1].split(".")[0] for line in lines}
    assert {"intent_cache_misses", "intent_rows_rejected", "intent_predictions", "intent_confidence",
            "intent_batch_requests"} <= names
    batch = [line for line in lines if line.startswith("[METRICS]intent_batch_requests.")]
    # sync: the two requests TorchServe batched; async: the handle() calls that shared the forward (this one)
    expected = "1|" if handler.settings["async_mode"] else "2|"
    assert len(batch) == 1 and batch[0].split(":", 1)[1].startswith(expected)


def test_handler_time_is_one_histogram_observation_per_batch(handler, caplog):
    # the p95 latency alert (serve_config/prometheus/rules/serving.yml) reads intent_handler_seconds
    import logging

    with caplog.at_level(logging.INFO):
        run(handler, [(TEXT, b"how are you today?"), (TEXT, b"plan a trip to Rome")])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("[METRICS]intent_handler_seconds.")]
    assert len(lines) == 1
    assert 0 < float(lines[0].split(":", 1)[1].split("|")[0]) < 60


def test_onnx_runtime_serves_the_same_top1(model_dir, params, torch_params, tmp_path):
    from pipeline.modeling.onnx_export import export_onnx, top1_agreement
    from tests.conftest import TINY_ROWS

    onnx_dir = tmp_path / "model"
    shutil.copytree(model_dir, onnx_dir)
    export_onnx(onnx_dir, onnx_dir / "model.int8.onnx")
    texts = [t for rows in TINY_ROWS.values() for t in rows]
    assert top1_agreement(onnx_dir, onnx_dir / "model.int8.onnx", texts)["top1_agreement"] >= 0.9
    onnx_params = {**params, "serve": {**params["serve"], "runtime": "onnx"}}
    handler = ih.IntentHandler()
    handler.initialize(make_context(onnx_dir, onnx_params))
    handler.settings["redis_url"] = None
    torch_handler = ih.IntentHandler()
    torch_handler.initialize(make_context(onnx_dir, torch_params))
    torch_handler.settings["redis_url"] = None
    body = json.dumps({"texts": texts}).encode()
    onnx_out = run(handler, [(JSON, body)])[0][0]
    torch_out = run(torch_handler, [(JSON, body)])[0][0]
    agreement = np.mean([a["intent"] == b["intent"] for a, b in zip(onnx_out, torch_out, strict=True)])
    assert agreement >= 0.9

    # a lone row runs on its own session with serve_config's single_row_threads: same answer as in a batch
    assert handler.settings["single_row_threads"] > handler.settings["torch_threads"]
    assert handler.run_single is not handler.run
    for text, in_batch in list(zip(texts, onnx_out, strict=True))[:5]:
        alone = run(handler, [(JSON, json.dumps({"text": text}).encode())])[0][0]
        assert alone["intent"] == in_batch["intent"]
        assert alone["confidence"] == pytest.approx(in_batch["confidence"], abs=1e-4)


def test_initialize_names_a_missing_onnx_file(model_dir, params):
    onnx_params = {**params, "serve": {**params["serve"], "runtime": "onnx"}}
    with pytest.raises(FileNotFoundError, match="model.int8.onnx"):
        ih.IntentHandler().initialize(make_context(model_dir, onnx_params))


# --- archive inputs and launcher config --------------------------------------------------------


def test_archive_validation_names_the_broken_file(model_dir, params, tmp_path):
    from pipeline.deploy.archive import ArchiveError, validate_model_dir

    assert validate_model_dir(model_dir, params)["intents"] == params["intents"]
    broken = tmp_path / "broken"
    shutil.copytree(model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ArchiveError, match="model.safetensors"):
        validate_model_dir(broken, params)
    (broken / "model.safetensors").unlink()
    with pytest.raises(ArchiveError, match="model.safetensors is missing"):
        validate_model_dir(broken, params)
    shutil.copy2(model_dir / "model.safetensors", broken / "model.safetensors")
    (broken / "model_config.json").write_text("{not json")
    with pytest.raises(ArchiveError, match="model_config.json: not valid JSON"):
        validate_model_dir(broken, params)
    shutil.copy2(model_dir / "model_config.json", broken / "model_config.json")
    (broken / "calibration.json").write_text('{"temperature": -1}')
    with pytest.raises(ArchiveError, match="temperature must be > 0"):
        validate_model_dir(broken, params)
    (broken / "calibration.json").unlink()
    no_techniques = {**params, "techniques": {k: v for k, v in params["techniques"].items() if k != "translation"}}
    with pytest.raises(ArchiveError, match="translation"):
        validate_model_dir(broken, no_techniques)


def test_archive_cli_fails_clearly_without_a_model(tmp_path, capsys):
    from scripts.archive_model import main

    assert main(["--model", str(tmp_path / "nowhere"), "--version", "1", "--model-store", str(tmp_path)]) == 2
    assert "model directory not found" in capsys.readouterr().err


def test_launcher_config_pins_loopback_and_model_store(tmp_path):
    from pipeline.services.torchserve import TorchServe, read_properties

    store = tmp_path / "store"
    store.mkdir()
    ts = TorchServe(model_store=store, run_dir=tmp_path / "run", inference_port=18080, management_port=18081, metrics_port=18082)
    props = read_properties(ts.write_config(ts.template))
    assert props["inference_address"] == "http://127.0.0.1:18080"
    assert props["management_address"] == "http://127.0.0.1:18081"
    assert props["model_store"] == str(store.resolve())
    import re

    pattern = re.compile(props["allowed_urls"])
    assert pattern.fullmatch(f"file://{store.resolve()}/intent_classifier.mar")
    assert not pattern.fullmatch("file:///etc/intent_classifier.mar")
    assert not pattern.fullmatch("https://example.com/intent_classifier.mar")
    assert props["install_py_dep_per_model"] == "false" and props["enable_model_api"] == "true"
    assert "disable_token_authorization" not in props


def test_registration_from_params_reaches_commands_that_attach(tmp_path, params):
    """make serve's registration (max batch delay) is saved with the ports, so a later command
    (make canary registering a new version) registers the same way."""
    from pipeline.services.torchserve import TorchServe, serve_registration

    (tmp_path / "run").mkdir()
    registration = serve_registration(params)
    assert registration == {"max_batch_delay": str(params["serve"]["max_batch_delay_ms"])}
    TorchServe(model_store=tmp_path, run_dir=tmp_path / "run", registration=registration).save_state()
    assert TorchServe.attach(tmp_path / "run").registration == registration


def test_snapshot_default_versions_are_read(tmp_path):
    from pipeline.services.torchserve import latest_snapshot, snapshot_defaults

    config = tmp_path / "logs" / "config"
    config.mkdir(parents=True)
    models = {"models": {"intent_classifier": {"1": {"defaultVersion": False, "marName": "a.mar"},
                                                "2": {"defaultVersion": True, "marName": "b.mar"}}}}
    escaped = json.dumps(models, indent=2).replace("\n", "\\n").replace(":", "\\:")
    (config / "20260101000000000-snapshot.cfg").write_text("model_snapshot={}\n")
    (config / "20260102000000000-snapshot.cfg").write_text(f"model_snapshot={escaped}\n")
    assert snapshot_defaults(latest_snapshot(tmp_path)) == {"intent_classifier": "2"}


def test_archive_falls_back_to_torch_when_onnx_parity_is_too_low(model_dir, params, tmp_path):
    import yaml

    from pipeline.deploy.archive import ArchiveRequest, stage
    from tests.conftest import TINY_ROWS

    parity_file = tmp_path / "test.jsonl"
    parity_file.write_text("".join(json.dumps({"text": t}) + "\n" for rows in TINY_ROWS.values() for t in rows))
    strict = {**params, "serve": {**params["serve"], "runtime": "onnx", "onnx_min_top1_agreement": 1.01}}
    request = ArchiveRequest(model_dir=model_dir, version="1", parity_file=parity_file)
    staged = stage(request, strict, tmp_path / "staging")
    names = {p.name for p in staged["extra_files"]}
    assert "model.int8.onnx" not in names and "onnx_parity.json" in names
    parity = json.loads((tmp_path / "staging" / "onnx_parity.json").read_text())
    assert parity["n"] == 30 and parity["passed"] is False
    assert yaml.safe_load(staged["config_file"].read_text())["handler"]["serve"]["runtime"] == "torch"


# --- hardening: poisoned cache, per-row failures, echoed input, bounded explanations -----------


@pytest.fixture
def poisonable_cache(handler):
    """The handler with a FakeRedis a test can write anything into."""
    fake = FakeRedis()
    handler.settings["redis_url"], handler.redis, handler.redis_retry_at = "redis://fake", fake, 0.0
    yield fake
    handler.cache_flush()
    handler.settings["redis_url"], handler.redis, handler.redis_retry_at = None, None, 0.0


def test_poisoned_cache_values_are_misses_per_row(handler, poisonable_cache):
    good = "what is the tallest mountain in Africa?"
    run(handler, [(TEXT, good.encode())])
    handler.cache_flush()
    valid = json.loads(poisonable_cache.store[ih.cache_key("intent_classifier", "1.0", good)])
    poison = {
        "not json": b"\x00garbage{",
        "not utf-8": b"\xff\xfe\xfd",
        "a list": b"[1, 2]",
        "nested too deep": b"[" * 100_000,
        "unknown intent": json.dumps({**valid, "intent": "rm -rf"}).encode(),
        "other version": json.dumps({**valid, "model_version": "0.9"}).encode(),
        "no probabilities": json.dumps({k: v for k, v in valid.items() if k != "all_intents"}).encode(),
        "string confidence": json.dumps({**valid, "confidence": "high"}).encode(),
    }
    texts = [f"poisoned prompt about {name}" for name in poison]
    for text, value in zip(texts, poison.values(), strict=True):
        poisonable_cache.store[ih.cache_key("intent_classifier", "1.0", text)] = value
    answers, statuses = run(handler, [(TEXT, t.encode()) for t in [*texts, good]])
    assert statuses == [(200, None)] * (len(texts) + 1)
    assert [a["cached"] for a in answers] == [False] * len(texts) + [True]
    assert all(a["intent"] in handler.intents for a in answers)


def test_an_unexpected_error_on_one_row_answers_that_row_500(handler, monkeypatch):
    predict = handler.predict_texts

    def fails_on_boom(texts):
        if any("boom" in t for t in texts):
            raise RuntimeError("a bug that only this prompt triggers")
        return predict(texts)

    monkeypatch.setattr(handler, "predict_texts", fails_on_boom)
    answers, statuses = run(handler, [(TEXT, b"first fine prompt"), (TEXT, b"this one goes boom"),
                                      (JSON, json.dumps({"texts": ["fine", "also fine"]}).encode())])
    assert [code for code, _ in statuses] == [200, 500, 200]
    assert answers[1] == {"error": "prediction failed: RuntimeError", "code": 500}
    assert answers[0]["intent"] in handler.intents and len(answers[2]) == 2


def test_echoed_client_input_is_cut_in_messages_and_reason_phrases(handler):
    huge = "x" * 1_000_000
    rows = [
        ({**JSON, "explain": "True"}, json.dumps({"text": "hello", "target_intent": huge}).encode()),
        ({**JSON, "explain": "True"}, json.dumps({"text": "hello", "n_steps": [huge]}).encode()),
        (JSON, json.dumps({"text": "hello", "texts": [huge]}).encode()),
    ]
    answers, statuses = run(handler, rows)
    assert [code for code, _ in statuses] == [400, 400, 400]
    for answer, (_, phrase) in zip(answers, statuses, strict=True):
        assert len(phrase) <= ih.REASON_CHARS and "\n" not in phrase
        assert len(answer["error"]) < 1000
    assert "1000002 characters" in answers[0]["error"]  # says how long the echoed value was


@pytest.fixture
def explain_limits(handler):
    saved = {k: handler.settings[k] for k in ("explain_budget", "explain_deadline")}
    yield handler.settings
    handler.settings.update(saved)


def explain_row(body: dict) -> tuple[dict, bytes]:
    return {**JSON, "explain": "True"}, json.dumps(body).encode()


def test_explanation_budget_bounds_a_batch_and_spares_predictions(handler, explain_limits):
    text = "Please write a haiku about autumn rain"
    tokens = len(handler.tokenize([text])[0])
    explain_limits["explain_budget"] = 2 * 5 * tokens  # two one-text explanations of 5 steps
    rows = [
        explain_row({"texts": [text] * 3, "n_steps": 5}),  # 3 texts: more than the budget on its own
        explain_row({"text": text, "n_steps": 5}),
        (JSON, json.dumps({"text": text}).encode()),
        explain_row({"text": text, "n_steps": 5}),
        explain_row({"text": text, "n_steps": 5}),  # the budget is spent: retry later
    ]
    answers, statuses = run(handler, rows)
    assert [code for code, _ in statuses] == [400, 200, 200, 200, 503]
    assert f"costs {3 * 5 * tokens} token-steps" in answers[0]["error"] and str(2 * 5 * tokens) in answers[0]["error"]
    assert "explanation" in answers[1] and "explanation" in answers[3] and "explanation" not in answers[2]
    assert "retry" in answers[4]["error"]


def test_no_explanation_runs_past_the_deadline(handler, explain_limits, monkeypatch):
    text = "Summarize this meeting in three bullet points"
    explain_limits["explain_deadline"] = 0.0
    answers, statuses = run(handler, [explain_row({"text": text, "n_steps": 5}), (TEXT, text.encode()),
                                      explain_row({"texts": [text, text], "n_steps": 5})])
    assert [code for code, _ in statuses] == [503, 200, 503]
    assert "not done within 0 s" in answers[0]["error"] and answers[1]["intent"] in handler.intents

    explain, clock = handler.explain_text, FakeClock()

    def slow_explain(*args):
        done = explain(*args)
        clock.now += 2.0  # this text took 2 s
        return done

    explain_limits["explain_deadline"] = 1.0  # the first text is done in time, the second is not
    monkeypatch.setattr(handler, "explain_text", slow_explain)
    monkeypatch.setattr(handler, "clock", clock)
    answers, statuses = run(handler, [explain_row({"texts": [text, text], "n_steps": 5})])
    assert statuses == [(200, None)]
    done, late = answers[0]
    assert "explanation" in done and (late["code"], late["index"]) == (503, 1)


class FakeClock:
    """A monotonic clock that moves only when a test says so."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_long_explanation_stops_between_chunks_of_steps_at_the_deadline(handler, monkeypatch):
    """On a busy box one text alone can outlast TorchServe's response timeout: the deadline is
    checked before every chunk of integration steps, not only between texts."""
    import captum.attr

    clock, chunks = FakeClock(), []
    attribute = captum.attr.LayerIntegratedGradients.attribute

    def each_chunk_takes_a_second(self, *args, **kwargs):
        forward = self.forward_func

        def slow_forward(*inputs):
            chunks.append(inputs[0].shape[0])
            clock.now += 1.0
            return forward(*inputs)

        self.forward_func = slow_forward
        return attribute(self, *args, **kwargs)

    monkeypatch.setattr(captum.attr.LayerIntegratedGradients, "attribute", each_chunk_takes_a_second)
    monkeypatch.setattr(handler, "clock", clock)
    with pytest.raises(TimeoutError, match="explanation deadline"):
        handler.explain_text("Summarize this meeting in three bullet points", None, 50, clock.now + 2.5)
    assert len(chunks) == 3  # 50 steps come in chunks of explain_internal_batch_size; the 4th never ran
    assert max(chunks) <= handler.settings["explain_internal_batch_size"]


def test_cache_hits_are_logged_too(handler, poisonable_cache, tmp_path):
    from model_src.prediction_log import PredictionLogger, read_prediction_log

    handler.prediction_log = PredictionLogger(tmp_path / "p.jsonl")
    try:
        for _ in range(2):
            run(handler, [(TEXT, b"which planet has the most moons?")])
            handler.cache_flush()
    finally:
        handler.prediction_log.close()
        handler.prediction_log = None
    assert [r["cached"] for r in read_prediction_log(tmp_path)] == [False, True]


def test_explanations_wait_for_no_one_when_other_workers_hold_every_slot(handler):
    text = "Translate this sentence into Italian"
    slot = f"{handler.model_name}-{handler.model_version}"
    with ih.explain_slot(handler.explain_lock_dir, slot, 1) as held:  # another worker is explaining
        assert held
        answers, statuses = run(handler, [explain_row({"text": text, "n_steps": 5}), (TEXT, text.encode())])
    assert [code for code, _ in statuses] == [503, 200]
    assert "slot" in answers[0]["error"]
    assert run(handler, [explain_row({"text": text, "n_steps": 5})])[1] == [(200, None)]  # released: served again


# --- the asynchronous mode: requests handed over one by one, batched by the handler -------------


def requests_on_one_loop(handler, rows: list[tuple[dict, bytes]]):
    """Each row as its own handle() call on one event loop, all in flight at once, as TorchServe's
    async worker runs them -> (answers, statuses, requests per forward)."""
    from ts.context import RequestProcessor

    forwards = []
    coalescer_on_batch = handler.coalescer.on_batch
    handler.coalescer.on_batch = forwards.append

    async def one(headers: dict, body: bytes):
        ctx = handler.context  # each request gets its own copy, as ts.async_service does
        ctx = type(ctx).__new__(type(ctx))
        ctx.__dict__.update(handler.context.__dict__)
        ctx.request_processor = [RequestProcessor({**headers, "explain": headers.get("explain", "False")})]
        ctx.request_ids = {0: "req"}
        answers = await handler.handle([{"body": body}], ctx)
        return answers[0], ctx.get_response_status(0)

    async def all_at_once():
        return await asyncio.gather(*(one(h, b) for h, b in rows))

    try:
        done = asyncio.run(all_at_once())
    finally:
        handler.coalescer.on_batch = coalescer_on_batch
    return [a for a, _ in done], [s for _, s in done], forwards


def test_async_distinct_requests_in_flight_together_get_their_own_answers(handler):
    if not handler.settings["async_mode"]:
        pytest.skip("asynchronous mode only")
    texts = [f"request {i}: " + " ".join(["plan a trip to Rome", "fix my sql query", "summarize this email"][i % 3]
                                         for _ in range(1 + i % 5)) for i in range(16)]
    alone = [run(handler, [(TEXT, t.encode())])[0][0] for t in texts]
    rows = [(TEXT, t.encode()) for t in texts] + [(JSON, b'{"text": ""}'), (JSON, b"{broken")]
    answers, statuses, forwards = requests_on_one_loop(handler, rows)
    assert [code for code, _ in statuses] == [200] * 16 + [400, 400]
    for got, want in zip(answers[:16], alone, strict=True):
        assert got["all_intents"] == pytest.approx(want["all_intents"], abs=1e-5)
        assert got["complexity"]["score"] == pytest.approx(want["complexity"]["score"], abs=1e-5)
    assert sum(forwards) == 16 and max(forwards) > 1  # one ran alone at once, the rest rode later forwards


def test_async_a_second_explanation_in_a_worker_is_refused_at_once_and_predictions_go_on(handler):
    if not handler.settings["async_mode"]:
        pytest.skip("asynchronous mode only")
    text = "Translate this sentence into Italian"
    handler.explaining = True  # another request of this worker is being explained
    try:
        answers, statuses = run(handler, [explain_row({"text": text, "n_steps": 5}), (TEXT, text.encode())])
    finally:
        handler.explaining = False
    assert [code for code, _ in statuses] == [503, 200]
    assert "explaining another request" in answers[0]["error"]
    answers, statuses = run(handler, [explain_row({"text": text, "n_steps": 5})])
    assert statuses == [(200, None)] and "explanation" in answers[0]


def test_async_explanations_run_on_a_low_priority_thread_of_their_own(handler):
    if not handler.settings["async_mode"]:
        pytest.skip("asynchronous mode only")
    import os
    import threading

    seen = {}
    explain = handler.explain_rows

    def spy(*args):
        seen["thread"] = threading.current_thread().name
        seen["nice"] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return explain(*args)

    handler.explain_rows = spy
    try:
        assert run(handler, [explain_row({"text": "Write a haiku", "n_steps": 5})])[1] == [(200, None)]
    finally:
        del handler.explain_rows
    assert seen["thread"].startswith("explain") and seen["nice"] == handler.settings["explain_nice"]


def test_async_predictions_during_an_explanation_do_not_meet_captum_hooks(handler, monkeypatch):
    """In async mode a prediction runs while an explanation's attribution holds Captum's hook on the
    embedding layer: it must not go through the hooked model (it did: shape errors, answered 500)."""
    if not handler.settings["async_mode"]:
        pytest.skip("asynchronous mode only")
    import captum.attr

    attribute, during = captum.attr.LayerIntegratedGradients.attribute, []

    def predicting_meanwhile(self, *args, **kwargs):
        forward = self.forward_func

        def forward_and_predict(*inputs):  # Captum's hooks are on now: a prediction of a longer text meanwhile
            during.append(handler.predict_texts(["a much longer prompt about planning a three week trip to Japan"]))
            return forward(*inputs)

        self.forward_func = forward_and_predict
        return attribute(self, *args, **kwargs)

    monkeypatch.setattr(captum.attr.LayerIntegratedGradients, "attribute", predicting_meanwhile)
    assert run(handler, [explain_row({"text": "Write a haiku", "n_steps": 5})])[1] == [(200, None)]
    assert during and during[0][0]["intent"] in handler.intents
