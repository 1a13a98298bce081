"""Tokens that expire under traffic: a real TorchServe with 15-second tokens, the renewer `make serve`
runs (pipeline/services/token_renewer.py) and the project's client (pipeline/client.py), which
re-reads key_file.json when a token is refused. Traffic (predictions and management calls) runs
across two renewals of each token and past the first tokens' lifetime: no call may fail."""

from __future__ import annotations

import time

import pytest
import requests

from pipeline.reliability.scenarios import LoadLoop, summarize
from pipeline.services import free_port
from pipeline.services.torchserve import CONFIG_TEMPLATE, TorchServe, override_properties

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "intent_classifier"
TOKEN_MINUTES = 0.25  # TorchServe reads token_expiration_min as a double: 15 s tokens
MARGIN_S = 5.0  # renewed 10 s after each is issued
RENEWALS = 2


@pytest.fixture
def short_token_torchserve(tiny_mar_store, tmp_path):
    store, _ = tiny_mar_store
    template = tmp_path / "config.properties"
    template.write_text(override_properties(CONFIG_TEMPLATE.read_text(encoding="utf-8"),
                                            {"token_expiration_min": str(TOKEN_MINUTES)}), encoding="utf-8")
    ts = TorchServe(model_store=store, run_dir=tmp_path / "ts", models={MODEL: f"{MODEL}.mar"}, template=template,
                    inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                    grpc_ports=(free_port(), free_port()), token_renewal_margin_s=MARGIN_S)
    ts.start(timeout=180)
    try:
        yield ts
    finally:
        ts.stop()


def test_traffic_across_two_token_renewals_has_no_failed_request(short_token_torchserve):
    ts = short_token_torchserve
    first = ts.keys()
    seen = {"inference": [first["inference"]], "management": [first["management"]]}
    # no retries on 5xx: only the client's token re-read may repeat a call
    loop = LoadLoop(ts.client(retries=0), f"predictions/{MODEL}", concurrency=4).start()
    management_failures = []
    deadline = time.monotonic() + 6 * TOKEN_MINUTES * 60
    try:
        while min(len(keys) for keys in seen.values()) <= RENEWALS and time.monotonic() < deadline:
            try:
                ts.describe(MODEL)  # management calls through the launcher, same re-read rule
            except requests.RequestException as exc:
                management_failures.append(str(exc))
            keys = ts.keys()
            for api, history in seen.items():
                if keys[api] != history[-1]:
                    history.append(keys[api])
            time.sleep(0.2)
    finally:
        calls = loop.stop()
    r = summarize(calls, loop.started)
    assert min(len(keys) for keys in seen.values()) > RENEWALS, f"tokens renewed: {seen}"
    assert r["requests"] > 0 and r["lost"] == 0
    assert r["failed"] == 0, r["failed_statuses"]
    assert management_failures == []
    # the renewals were real: TorchServe refuses the first token now
    refused = requests.post(ts.inference_url(f"predictions/{MODEL}"), json={"text": "hello"},
                            headers={"Authorization": f"Bearer {first['inference']}"}, timeout=30)
    assert refused.status_code == 400
    print(f"\n{r['requests']} predictions across {RENEWALS} renewals of each token: {r['failed']} failed, "
          f"{r['token_rereads']} token re-reads by the client")
