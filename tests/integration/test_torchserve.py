"""A real TorchServe (token auth on, free loopback ports) serving .mar files built from a tiny model,
with a real redis-server: the inference, explanation, management and metrics APIs as users call them.

One server for the module (startup costs seconds); the tests run in file order and the versions
test restarts it. The fixture stops TorchServe and Redis whatever happens and prints the log
tail when a test failed.
"""

from __future__ import annotations

import json
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from model_src.prediction_log import text_hash
from pipeline.deploy.archive import ArchiveRequest, build_archive
from pipeline.deploy.benchmark import wrk_throughput
from pipeline.services import free_port, wait_until
from pipeline.services.redis import RedisServer
from pipeline.services.torchserve import TorchServe
from tests.serving_helpers import build_tiny_model_dir, started

pytestmark = pytest.mark.integration

MODEL = "intent_classifier"


@pytest.fixture(scope="module")
def store(tmp_path_factory, tiny_encoder_dir, params):
    """model_store with intent_classifier.mar (1.0) and intent_classifier_v2.mar (2.0)."""
    root = tmp_path_factory.mktemp("serving")
    store = root / "model_store"
    for seed, version, mar_name in ((0, "1.0", MODEL), (1, "2.0", f"{MODEL}_v2")):
        model_dir = build_tiny_model_dir(tiny_encoder_dir, root / f"model_{seed}", params, seed=seed, temperature=1.5)
        build_archive(ArchiveRequest(model_dir=model_dir, version=version, mar_name=mar_name, model_store=store), params)
    return store


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(port=free_port(), run_dir=tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


def assign_free_ports(ts: TorchServe) -> None:
    ts.inference_port, ts.management_port, ts.metrics_port = free_port(), free_port(), free_port()
    ts.grpc_ports = (free_port(), free_port())


@pytest.fixture(scope="module")
def server(store, redis_server, tmp_path_factory, request):
    run_dir = tmp_path_factory.mktemp("ts_run")
    ts = TorchServe(
        model_store=store,
        run_dir=run_dir,
        models={MODEL: f"{MODEL}.mar"},
        registration={"max_batch_delay": "0"},  # as make serve registers it (params serve.max_batch_delay_ms)
        env={
            **redis_server.handler_env(),
            "BETTERPROMPTS_PREDICTION_LOG": str(run_dir / "prediction_logs" / "predictions-{pid}.jsonl"),
        },
    )
    assign_free_ports(ts)
    with started(ts, request):
        yield ts


def predict(ts: TorchServe, body, *, version: str | None = None, explain: bool = False, content_type="application/json", token=True):
    path = f"{'explanations' if explain else 'predictions'}/{MODEL}" + (f"/{version}" if version else "")
    data = json.dumps(body) if not isinstance(body, str | bytes) else body
    headers = {"Content-Type": content_type, **(ts.headers() if token else {})}
    return requests.post(ts.inference_url(path), data=data, headers=headers, timeout=60)


def test_single_prediction(server, params):
    response = predict(server, {"text": "Write a Python function that reverses a linked list"})
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["intent"] in params["intents"]
    assert set(out) >= {"intent", "confidence", "complexity", "top_intents", "all_intents",
                        "suggested_techniques", "model_version", "cached"}
    assert out["model_version"] == "1.0"
    assert out["suggested_techniques"] == params["techniques"][out["intent"]][out["complexity"]["level"]]
    raw = predict(server, "Write a Python function that reverses a linked list", content_type="text/plain")
    assert raw.status_code == 200 and raw.json()["intent"] == out["intent"]


def test_registered_through_the_api_with_no_batch_delay(server, configured_workers):
    described = server.describe(MODEL)[0]
    assert described["maxBatchDelay"] == 0  # a model-config.yaml cannot say 0 (it means 100 ms there)
    assert described["batchSize"] == 8 and described["minWorkers"] == configured_workers  # the archive's


def test_token_is_required(server):
    assert predict(server, {"text": "hello"}, token=False).status_code in (400, 401)
    response = requests.get(server.management_url("models"), headers={"Authorization": "Bearer wrong"}, timeout=10)
    assert response.status_code in (400, 401)


def test_batch_request_answers_a_list(server, tiny_rows):
    texts = [r["text"] for r in tiny_rows[:12]]
    response = predict(server, {"texts": texts})
    assert response.status_code == 200, response.text
    out = response.json()
    assert len(out) == len(texts) and all("intent" in item for item in out)
    assert predict(server, {"texts": ["x"] * 101}).status_code == 400


def test_mixed_bad_rows_in_one_batch(server):
    """Concurrent requests share TorchServe batches; each gets its own status, never a 503."""
    bodies = [
        ({"text": "how do I fix a leaking tap"}, 200),
        ('{"text": "unterminated', 400),
        ({"text": "   "}, 400),
        ({"text": "x" * 5001}, 400),
        ({"texts": ["plan my week", 42]}, 200),
        (b"\xff\xfe not utf-8", 400),
        ({"text": 12}, 400),
        ({"text": "translate hello into French"}, 200),
    ] * 2
    with ThreadPoolExecutor(max_workers=len(bodies)) as pool:
        responses = list(pool.map(lambda b: predict(server, b[0]), bodies))
    assert [r.status_code for r in responses] == [code for _, code in bodies]
    listed = responses[4].json()
    assert "intent" in listed[0] and listed[1]["code"] == 400 and listed[1]["index"] == 1
    assert "not valid JSON" in responses[1].json()["error"]


def test_explanations_route_per_row(server, params):
    text = "Summarize this article about climate policy in three bullet points"
    with ThreadPoolExecutor(max_workers=2) as pool:
        explained, predicted = pool.map(
            lambda args: predict(server, args[0], explain=args[1]),
            [({"text": text, "n_steps": 8}, True), ({"text": text}, False)],
        )
    # one explanation at a time here: serve.explain_workers (1) lets one worker explain at once and
    # the other answers explanations 503 "retry" (test_explanations_wait_for_no_one_... in the unit tests)
    targeted = predict(server, {"text": text, "target_intent": params["intents"][5], "n_steps": 8}, explain=True)
    assert explained.status_code == 200, explained.text
    words = explained.json()["explanation"]["words"]
    assert [w["word"] for w in words] == text.split()
    assert "explanation" not in predicted.json()
    assert targeted.json()["explanation"]["target_intent"] == params["intents"][5]
    too_many = predict(server, {"text": text, "n_steps": params["serve"]["explain_max_n_steps"] + 1}, explain=True)
    assert too_many.status_code == 400


def test_redis_cache_up_and_down(server, redis_server):
    text = {"text": "What is the boiling point of water at high altitude?"}
    assert predict(server, text).json()["cached"] is False
    # the worker writes results to Redis from a background thread: cached within moments
    wait_until(lambda: predict(server, text).json()["cached"], timeout=5, interval=0.05, what="the cached answer")
    redis_server.stop()
    try:
        for _ in range(3):
            response = predict(server, {"text": "What is the boiling point of water on Mars?"})
            assert response.status_code == 200 and response.json()["cached"] is False
    finally:
        redis_server.start()

    def cached_again() -> bool:  # the handler retries Redis after its back-off
        predict(server, {"text": "cache me again"})
        return predict(server, {"text": "cache me again"}).json()["cached"]

    wait_until(cached_again, timeout=20, interval=1, what="the cache to resume after Redis restarted")


def test_a_poisoned_cache_value_is_a_miss(server, redis_server):
    from handlers.intent_handler import cache_key

    client = redis_server.client()
    for i, poison in enumerate([b"\x00not json{", b'{"intent": "rm -rf /", "model_version": "1.0"}', b"[" * 50_000]):
        text = f"What is the boiling point of water on Everest, take {i}?"
        predict(server, {"text": text})  # the worker reads and writes this Redis (with its password) ...
        wait_until(lambda t=text: predict(server, {"text": t}).json()["cached"], timeout=5, interval=0.05,
                   what="the cached answer")
        client.set(cache_key(MODEL, "1.0", text), poison)  # ... and someone who can reach it poisons the entry
        response = predict(server, {"text": text})
        assert response.status_code == 200, response.text
        assert response.json()["cached"] is False


def test_redis_wants_its_password_and_it_is_on_no_command_line(redis_server):
    import redis

    with pytest.raises(redis.exceptions.AuthenticationError):
        redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=2).get("any")
    assert redis_server.client().ping()
    password = redis_server.password_file.read_text().strip()
    config = redis_server.run_dir / f"redis-{redis_server.port}.conf"
    assert {f.stat().st_mode & 0o777 for f in (redis_server.password_file, config)} == {0o600}
    assert password not in Path(f"/proc/{redis_server.process.pid}/cmdline").read_text()
    assert "bind 127.0.0.1\n" in config.read_text()


def test_an_echoed_huge_value_does_not_become_a_huge_reason_phrase(server):
    response = predict(server, {"text": "hello", "target_intent": "x" * 900_000}, explain=True)
    assert response.status_code == 400
    assert len(response.reason) <= 200 and len(response.text) < 1000


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed: make system-deps")
def test_benchmark_load_generator_gets_every_prompt_answered(server):
    """`make bench`'s wrk run through token auth and the batcher (test_benchmark_wrk.py: sent once)."""
    texts = [f"Write a function number {i} that sorts a list of records by date" for i in range(40)]
    result = wrk_throughput(server.inference_port, server.keys()["inference"], f"/predictions/{MODEL}", texts,
                            concurrency=4, timeout=120)
    assert result["requests"] == 40 and result["errors"] == 0


def test_metrics_scrape_shows_handler_metrics(server):
    text = requests.get(server.metrics_url(), timeout=10).text
    for name in ("intent_cache_hits", "intent_cache_misses", "intent_cache_unavailable", "intent_rows_rejected",
                 "intent_predictions", "intent_confidence_bucket", "intent_batch_requests_count",
                 "ts_inference_requests_total"):
        assert name in text, name
    assert 'ModelVersion="1.0"' in text


def test_second_version_set_default_restart_unregister(server):
    response = server.manage("POST", "models", params={
        "url": f"{MODEL}_v2.mar", "initial_workers": 1, "synchronous": "true",
        "batch_size": 8, "max_batch_delay": 50})
    assert response.status_code == 200, response.text
    assert predict(server, {"text": "hello"}, version="2.0").json()["model_version"] == "2.0"
    assert server.default_version(MODEL) == "1.0"
    assert {d["modelVersion"] for d in server.describe(MODEL)} == {"1.0", "2.0"}

    assert server.set_default(MODEL, "2.0").status_code == 200
    assert predict(server, {"text": "hello"}).json()["model_version"] == "2.0"

    server.stop()
    assign_free_ports(server)  # never race a port in TIME_WAIT
    server.start(timeout=180)
    assert server.default_version(MODEL) == "2.0"
    delays = {d["modelVersion"]: d["maxBatchDelay"] for d in server.describe(MODEL)}
    assert delays == {"1.0": 0, "2.0": 50}  # restored from the snapshot as registered
    assert predict(server, {"text": "hello"}).json()["model_version"] == "2.0"
    assert predict(server, {"text": "hello"}, version="1.0").json()["model_version"] == "1.0"

    assert server.set_default(MODEL, "1.0").status_code == 200
    assert server.unregister(MODEL, "2.0").status_code == 200
    assert predict(server, {"text": "hello"}, version="2.0").status_code == 404
    assert predict(server, {"text": "hello"}).json()["model_version"] == "1.0"


def test_registration_outside_the_model_store_is_refused(server):
    for url in ("https://example.com/intent_classifier.mar", "file:///etc/intent_classifier.mar"):
        response = server.manage("POST", "models", params={"url": url})
        assert response.status_code in (400, 403, 404), response.text
        assert "allowed" in response.text


def test_prediction_log_written_by_the_worker(server):
    logs = list((server.run_dir / "prediction_logs").glob("predictions-*.jsonl"))
    deadline = time.monotonic() + 10
    while not any(f.stat().st_size for f in logs) and time.monotonic() < deadline:
        time.sleep(0.5)
        logs = list((server.run_dir / "prediction_logs").glob("predictions-*.jsonl"))
    record = json.loads(next(f for f in logs if f.stat().st_size).read_text().splitlines()[0])
    assert {"model_version", "text_hash", "intent", "confidence"} <= set(record)
    assert "text" not in record  # privacy default: hash only
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in logs)
    # the worker hashes with the key the monitoring tools use (the tests' key file, inherited)
    records = [json.loads(line) for f in logs for line in f.read_text().splitlines()]
    assert text_hash("Write a Python function that reverses a linked list") in {r["text_hash"] for r in records}
    assert any(r.get("cached") for r in records)  # cache hits are logged too
