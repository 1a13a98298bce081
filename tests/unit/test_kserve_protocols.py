"""KServe bodies in the handler: v1 "instances", Open Inference Protocol tensors, and TorchServe's
own service_envelope=kserve in front of handle(), on the tiny model (no server). The integration
test tests/integration/test_kserve_server.py sends the same through the real KServe server."""
# ruff: noqa: F811 - the handler fixtures are imported from test_intent_handler, and tests take them as arguments

from __future__ import annotations

import json

import pytest
from ts.torch_handler.request_envelope.kserve import KServeEnvelope
from ts.torch_handler.request_envelope.kservev2 import KServev2Envelope

from handlers import intent_handler as ih
from tests.serving_helpers import set_requests
from tests.unit.test_intent_handler import JSON, handler, model_dir, run, torch_params  # noqa: F401 - fixtures

TEXTS = ["write a haiku about autumn", "fix this: for i in range(10) print(i)", "Summarize the meeting notes below"]


def native(handler, texts):
    return run(handler, [(JSON, json.dumps({"texts": texts}).encode())])[0][0]


def test_v1_instances_answer_predictions_like_the_native_api_with_bad_instances_apart(handler):
    instances = [{"text": TEXTS[0]}, {"text": "   "}, TEXTS[1], {"prompt": "x"}]
    answers, statuses = run(handler, [(JSON, json.dumps({"instances": instances}).encode())])
    assert statuses[0][0] == 200
    predictions = answers[0]["predictions"]
    assert len(predictions) == 4
    assert [predictions[0], predictions[2]] == native(handler, TEXTS[:2])
    assert predictions[1]["code"] == 400 and predictions[1]["index"] == 1 and "empty" in predictions[1]["error"]
    assert predictions[3]["code"] == 400 and "instances[3]" in predictions[3]["error"]


@pytest.mark.parametrize("instances", [[], "text", [{"text": "a"}] * 101])
def test_v1_instances_out_of_bounds_are_a_400(handler, instances):
    answers, statuses = run(handler, [(JSON, json.dumps({"instances": instances}).encode())])
    assert statuses[0][0] == 400 and "'instances'" in answers[0]["error"]


def test_v2_tensor_answers_typed_output_tensors_row_by_row(handler):
    body = {"id": "r-1", "inputs": [{"name": "text", "datatype": "BYTES", "shape": [3], "data": TEXTS}]}
    answers, statuses = run(handler, [(JSON, json.dumps(body).encode())])
    assert statuses[0][0] == 200
    response = answers[0]
    assert response["id"] == "r-1" and response["model_name"] == "intent_classifier"
    outputs = {o["name"]: o for o in response["outputs"]}
    assert {name: (o["datatype"], o["shape"]) for name, o in outputs.items()} == {
        "intent": ("BYTES", [3]), "confidence": ("FP32", [3]),
        "complexity_level": ("BYTES", [3]), "complexity_score": ("FP32", [3]),
    }
    for i, expected in enumerate(native(handler, TEXTS)):
        assert outputs["intent"]["data"][i] == expected["intent"]
        assert outputs["confidence"]["data"][i] == expected["confidence"]
        assert outputs["complexity_level"]["data"][i] == expected["complexity"]["level"]
        assert outputs["complexity_score"]["data"][i] == expected["complexity"]["score"]


@pytest.mark.parametrize(
    ("tensor", "fragment"),
    [
        ({"name": "text", "datatype": "FP32", "shape": [1], "data": [1.0]}, "datatype BYTES"),
        ({"name": "text", "datatype": "BYTES", "shape": [0], "data": []}, "1..100 texts"),
        ({"name": "text", "datatype": "BYTES", "shape": [2], "data": ["a"]}, "shape"),
        ({"name": "text", "datatype": "BYTES", "shape": [2], "data": ["a", " "]}, "text[1]"),
    ],
)
def test_v2_bad_tensors_are_a_400_naming_the_problem(handler, tensor, fragment):
    answers, statuses = run(handler, [(JSON, json.dumps({"inputs": [tensor]}).encode())])
    assert statuses[0][0] == 400 and fragment in answers[0]["error"]


def envelope_call(handler, envelope_class, body: dict, explain: bool = False):
    """What a TorchServe worker with service_envelope does: the envelope's handle around ours."""
    if handler.settings["async_mode"]:
        pytest.skip("TorchServe's envelopes call handle() synchronously: a KServe pod serves the synchronous mode")
    ctx = handler.context
    set_requests(ctx, [{**JSON, "explain": str(explain)}])
    answers = envelope_class(handler.handle).handle([{"body": json.dumps(body).encode()}], ctx)
    return answers, ctx.get_response_status(0)


def test_torchserve_kserve_envelope_answers_each_instance(handler):
    answers, status = envelope_call(handler, KServeEnvelope, {"instances": [{"text": t} for t in TEXTS[:2]] + [{"text": ""}]})
    assert status[0] == 200
    (response,) = answers
    assert response["predictions"][:2] == native(handler, TEXTS[:2])
    assert response["predictions"][2]["code"] == 400


@pytest.mark.parametrize("body", [{"text": TEXTS[0]}, {"instances": []}], ids=["no_instances", "empty"])
def test_torchserve_kserve_envelope_without_instances_is_a_400(handler, body):
    answers, status = envelope_call(handler, KServeEnvelope, body)
    assert status[0] == 400 and "'instances'" in json.dumps(answers)


def test_torchserve_kservev2_envelope_is_refused_with_the_reason(handler):
    body = {"inputs": [{"name": "text", "datatype": "BYTES", "shape": [2], "data": TEXTS[:2]}]}
    answers, status = envelope_call(handler, KServev2Envelope, body)
    assert status[0] == 400 and "kservev2" in status[1]


def test_native_request_rows_are_not_mistaken_for_an_envelope():
    assert ih.enveloped_body([{"body": b"{}"}, {"data": None}]) is None
    assert ih.enveloped_body([{"text": "hi"}]) == {"instances": [{"text": "hi"}]}
    assert ih.enveloped_body(None) == {"instances": None}
    assert ih.enveloped_body([]) == {"instances": []}
