"""Faults against a real TorchServe + Redis on loopback, through the same scenario runners as
`make reliability` (pipeline/reliability/scenarios.py): fuzzed bodies, broken artefacts, Redis restarted
under load, a worker killed under load, training SIGKILLed mid-epoch and resumed, TorchServe
restarted. One TorchServe for the module; the restart test runs last (file order).

Bounded: 1,000 fuzz bodies, loads of a few seconds around each fault, time-outs on every wait.
"""

from __future__ import annotations

import pytest

from pipeline.datagen.generate import generate_samples
from pipeline.reliability import scenarios as reliability
from pipeline.reliability.fuzz_bodies import fuzz_bodies
from pipeline.services import free_port
from pipeline.services.redis import RedisServer
from pipeline.services.torchserve import read_properties

pytestmark = pytest.mark.integration

MODEL = "intent_classifier"


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory):
    server = RedisServer(port=free_port(), run_dir=tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def torchserve_env(redis_server) -> dict[str, str]:
    return redis_server.handler_env()


def test_fuzzed_bodies_get_no_5xx_no_worker_crash_and_oversize_is_refused(module_torchserve, params, configured_workers):
    limit = int(read_properties(module_torchserve.config_path())["max_request_size"])
    bodies = fuzz_bodies(1000, seed=0, max_request_size=limit, max_chars=int(params["serve"]["max_text_chars"]))
    r = reliability.fuzz(module_torchserve, MODEL, bodies)
    assert r["bodies"] == 1000
    assert r["status_5xx"] == 0, r["statuses_by_kind"]
    assert r["no_response"] == 0, r["statuses_by_kind"]
    assert r["worker_crashes"] == 0 and r["workers_ready_after"] == configured_workers
    assert r["oversize"] > 0 and r["oversize_refused_413"] == r["oversize"]
    assert r["valid"] > 0 and r["valid_answered"] == r["valid"]
    # hostile bodies were actually refused, not quietly answered
    assert r["statuses_by_kind"]["deep_json"].get("400", 0) > 0
    assert r["statuses_by_kind"]["wrong_types"].get("400", 0) > 0


def test_broken_artefacts_are_refused_and_the_serving_version_keeps_answering(module_torchserve, tiny_mar_store,
                                                                           params, tmp_path):
    store, model_dir = tiny_mar_store
    cases = reliability.bad_artifacts(module_torchserve, MODEL, store / f"{MODEL}.mar", model_dir, params, tmp_path)
    assert {c["case"] for c in cases} >= {"corrupt .mar", "truncated .mar", "model dir without model.safetensors",
                                          "params serve.max_text_chars is a string"}
    for case in cases:
        assert case["error"], f"{case['case']} ({case['where']}) was accepted"
        assert case["names_input"], case
        assert case["serving_ok"], case
    assert [e["modelVersion"] for e in module_torchserve.describe(MODEL)] == ["1"]


def test_redis_stopped_and_restarted_mid_load_answers_everything_and_cache_resumes(module_torchserve, redis_server):
    r = reliability.redis_restart(module_torchserve, redis_server, MODEL, concurrency=8, warmup_s=2.0, outage_s=2.0,
                                  resume_timeout=60.0)
    assert r["lost"] == 0
    assert r["answered"] == r["requests"] and r["answered_pct"] == 100.0, r["failed_statuses"]
    assert r["answered_during_outage"] > 0  # served without the cache while Redis was down
    assert r["cached_before_stop"] > 0 and r["cached_after_restart"] > 0


def test_worker_killed_under_load_comes_back_and_every_request_gets_its_own_answer(module_torchserve):
    r = reliability.worker_kill(module_torchserve, MODEL, concurrency=8, warmup_s=2.0, tail_s=2.0,
                                recovery_timeout=120.0)
    assert r["lost"] == 0
    assert r["workers_started_after_kill"] >= 1
    # the killed worker's batch was retried by the client: nothing failed, and each answer is the
    # one for the text that call sent (answers of different prompts are told apart)
    assert r["failed"] == 0, r["failed_statuses"]
    assert r["answered"] == r["requests"] > 0
    assert r["reference_min_gap"] > 2 * r["max_deviation_from_reference"], r
    assert r["wrong_answers"] == 0
    print(f"\nworker kill: {r['requests']} requests, {r['client_retries_done']} client retries "
          f"({r['answered_after_retry']} requests answered after a retry)")


def test_training_killed_mid_epoch_and_resumed_matches_uninterrupted(params, tiny_encoder_dir, tmp_path):
    rows = [{k: r[k] for k in ("text", "intent", "complexity")} for r in generate_samples(160, 0, params=params)]
    params_file = reliability.training_params(params, tmp_path, tiny_encoder_dir, rows, epochs=2, checkpoint_every_steps=4)
    r = reliability.training_resume(params_file, tmp_path, timeout=300)
    assert r["killed_at"]["epoch"] == 0 and r["killed_at"]["position"] > 0, r["killed_at"]
    assert r["resumed"]["global_step"] == r["uninterrupted"]["global_step"]
    assert r["max_metric_diff"] <= reliability.METRIC_TOLERANCE, r
    assert r["weights_identical"], r["max_weight_diff"]


def test_torchserve_restart_keeps_the_pinned_default_version(module_torchserve):
    r = reliability.torchserve_restart(module_torchserve, MODEL, f"{MODEL}_v2.mar", timeout=180)
    assert r["versions_before"] == r["versions_after"] == ["1", "2"]
    assert r["default_before"] == "1"  # not the newest: a restart that forgot the pin would pick 2
    assert r["default_after"] == "1"
    assert r["answer_status"] == 200 and r["answer_model_version"] == "1"
