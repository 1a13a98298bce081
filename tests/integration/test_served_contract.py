"""Real TorchServe answers (the module server from conftest.py: token auth on, free loopback ports)
validated against the published JSON Schema contract in serve_config/schema/: every documented
request form, the per-element and per-request errors, and TorchServe's own error bodies."""

from __future__ import annotations

import json

import pytest
import requests

from pipeline.deploy.api_schema import contract_error

pytestmark = pytest.mark.integration

MODEL = "intent_classifier"
TEXT = "Summarize this article about climate policy in three bullet points"


def call(ts, endpoint: str, body, *, content_type="application/json", token=True, path=MODEL):
    """POST body to /<endpoint>/<path>; the request body is checked against the contract first."""
    if content_type == "application/json":
        request_schema = "explanation_request" if endpoint == "explanations" else "prediction_request"
        assert contract_error(request_schema, body) is None, body
    data = json.dumps(body) if content_type == "application/json" else body
    headers = {"Content-Type": content_type, **(ts.headers() if token else {})}
    return requests.post(ts.inference_url(f"{endpoint}/{path}"), data=data, headers=headers, timeout=120)


def conforming(response, body: str, status: int):
    assert response.status_code == status, response.text
    answer = response.json()
    assert contract_error(body, answer) is None, (contract_error(body, answer), answer)
    return answer


def test_predictions_conform(module_torchserve, params):
    single = conforming(call(module_torchserve, "predictions", {"text": TEXT}), "prediction_response", 200)
    assert single["intent"] in params["intents"]
    conforming(call(module_torchserve, "predictions", TEXT, content_type="text/plain"), "prediction_response", 200)
    listed = conforming(call(module_torchserve, "predictions", {"texts": [TEXT, "plan a 3 day trip to Rome"]}),
                        "prediction_response", 200)
    assert len(listed) == 2


def test_explanations_conform(module_torchserve, params):
    target = params["intents"][2]
    answer = conforming(call(module_torchserve, "explanations", {"text": TEXT, "target_intent": target, "n_steps": 4}),
                        "explanation_response", 200)
    assert answer["explanation"]["target_intent"] == target
    listed = conforming(call(module_torchserve, "explanations", {"texts": [TEXT, "translate hi into Greek"], "n_steps": 4}),
                        "explanation_response", 200)
    assert [len(a["explanation"]["words"]) for a in listed] == [len(TEXT.split()), 4]


def test_errors_conform(module_torchserve):
    """A bad element inside a list, a bad request, and TorchServe's own refusals (no token, no such version)."""
    bad_element = requests.post(module_torchserve.inference_url(f"predictions/{MODEL}"), json={"texts": [TEXT, "  "]},
                                headers=module_torchserve.headers(), timeout=60)
    assert conforming(bad_element, "prediction_response", 200)[1]["index"] == 1
    bad_request = requests.post(module_torchserve.inference_url(f"explanations/{MODEL}"), json={"text": TEXT, "n_steps": 0},
                                headers=module_torchserve.headers(), timeout=60)
    assert "n_steps" in conforming(bad_request, "explanation_response", 400)["error"]
    no_token = call(module_torchserve, "predictions", {"text": TEXT}, token=False)
    assert "message" in conforming(no_token, "prediction_response", no_token.status_code)
    conforming(call(module_torchserve, "predictions", {"text": TEXT}, path=f"{MODEL}/99"), "prediction_response", 404)
