"""Overload answers 503 at once instead of queueing past the clients' timeout (config.properties
job_queue_size), on a real TorchServe with ONE worker and a small queue, tiny model.

A burst of BURST requests, each 100 texts (the handler's maximum, so a batch of them keeps the
worker busy), released together: the worker takes one batch, the queue holds JOB_QUEUE_SIZE, and
TorchServe must refuse the rest with its queue-full 503 while the accepted ones are answered in
full. With a queue as large as the burst nothing is refused and every request waits its turn: this
test then fails (checked by setting JOB_QUEUE_SIZE = 100000).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from pathlib import Path

import pytest
import requests

from pipeline.services import free_port
from pipeline.services.torchserve import CONFIG_TEMPLATE, TorchServe, override_properties, read_properties
from tests.serving_helpers import started

pytestmark = pytest.mark.integration
MODEL = "intent_classifier"
JOB_QUEUE_SIZE = 4
BURST = 48
CLIENT_TIMEOUT_S = 120  # far beyond the burst's work: a request that gets no answer in time would be a failure
QUEUE_FULL = "has no worker to serve inference request"  # TorchServe 0.12's 503 message when the job queue is full


def test_shipped_config_sets_an_explicit_job_queue_size():
    """TorchServe's default (100 per version) would be used silently if the line went missing."""
    assert int(read_properties(CONFIG_TEMPLATE)["job_queue_size"]) > 0


@pytest.fixture(scope="module")
def one_worker_torchserve(tiny_mar_store, tmp_path_factory, request):
    """The shipped config.properties with only job_queue_size made small; one worker, no Redis."""
    store, _ = tiny_mar_store
    run_dir = tmp_path_factory.mktemp("overload_ts")
    template = run_dir / "config.template.properties"
    template.write_text(override_properties(CONFIG_TEMPLATE.read_text(), {"job_queue_size": str(JOB_QUEUE_SIZE)}))
    ts = TorchServe(model_store=store, run_dir=run_dir, template=template, inference_port=free_port(),
                    management_port=free_port(), metrics_port=free_port(), grpc_ports=(free_port(), free_port()),
                    env={"INTENT_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    with started(ts, request):
        assert ts.register(f"{MODEL}.mar", initial_workers=1).status_code == 200
        # the archive's minWorkers (2) wins over initial_workers: scale down to one worker
        scaled = ts.manage("PUT", f"models/{MODEL}", params={"min_worker": 1, "max_worker": 1, "synchronous": "true"})
        assert scaled.status_code == 200, scaled.text
        ts.wait_model_ready(MODEL)
        yield ts


def burst(ts: TorchServe, texts: list[str]) -> list[tuple[int | None, str]]:
    """BURST requests released at once; (status or None, body or client error) for each."""
    url, headers = ts.inference_url(f"predictions/{MODEL}"), ts.headers("inference")
    gate = threading.Barrier(BURST)
    results: list[tuple[int | None, str]] = []
    lock = threading.Lock()

    def send() -> None:
        gate.wait()
        try:
            response = requests.post(url, json={"texts": texts}, headers=headers, timeout=CLIENT_TIMEOUT_S)
            outcome = (response.status_code, response.text)
        except requests.RequestException as exc:
            outcome = (None, f"{type(exc).__name__}: {exc}")
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=send) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_full_queue_answers_503_and_the_accepted_requests_succeed(one_worker_torchserve, params):
    ts = one_worker_torchserve
    workers = [w for entry in ts.describe(MODEL) for w in entry["workers"]]
    assert len(workers) == 1
    texts = [f"Summarize the attached meeting notes about budget item {i} in three bullet points" for i in
             range(int(params["serve"]["max_batch_texts"]))]

    results = burst(ts, texts)
    statuses = Counter(status for status, _ in results)
    print(f"\n[overload] job_queue_size {JOB_QUEUE_SIZE}, 1 worker, {BURST} requests of {len(texts)} texts: {dict(statuses)}")

    assert len(results) == BURST
    assert statuses[None] == 0, [body for status, body in results if status is None][:3]  # no client timeout or reset
    assert set(statuses) <= {200, 503}, statuses
    refused = [body for status, body in results if status == 503]
    assert refused, "nothing was refused: the queue took the whole burst"
    assert all(QUEUE_FULL in body for body in refused), refused[:3]
    accepted = [body for status, body in results if status == 200]
    assert accepted
    for body in accepted:
        answers = json.loads(body)
        assert len(answers) == len(texts) and all("intent" in a for a in answers)
    # the worker survived the burst and still answers
    assert requests.post(ts.inference_url(f"predictions/{MODEL}"), json={"text": "hello"}, headers=ts.headers("inference"),
                         timeout=CLIENT_TIMEOUT_S).status_code == 200
    assert Path(ts.config_path()).read_text().count(f"job_queue_size={JOB_QUEUE_SIZE}") == 1
