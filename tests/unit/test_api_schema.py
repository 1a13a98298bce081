"""The published JSON Schema contract (serve_config/schema/) against the handler's own pieces: its
limits equal params.yaml, the answers the handler builds conform, deliberately broken answers are
refused with the reason, and requests are judged as the handler judges them. Real server answers
are validated in tests/integration/test_served_contract.py."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest

from handlers import intent_handler as ih
from model_src.responses import build_prediction
from pipeline.deploy.api_schema import BODIES, contract_error, read_schema, validator


@pytest.fixture(scope="module")
def prediction(params) -> dict:
    """A prediction as the handler builds it, for the repository's intents and techniques."""
    intents = params["intents"]
    probs = np.linspace(1, 2, len(intents))
    return build_prediction(
        probs / probs.sum(), np.array([0.2, 0.7, 0.1]), 0.42, intents=intents, levels=params["complexity_levels"],
        techniques=params["techniques"], model_version="3", low_confidence_threshold=0.4,
    )


@pytest.fixture(scope="module")
def explained(prediction) -> dict:
    words = ih.merge_subwords([None, 0, 0, 1, None], [(0, 0), (0, 2), (2, 12), (13, 17), (0, 0)],
                              np.array([0.0, 0.6, 0.7, -0.4, 0.0]), "unbelievable code")
    explanation = {"target_intent": prediction["intent"], "method": "layer_integrated_gradients",
                   "layer": "encoder.embeddings", "n_steps": 20, "convergence_delta": 0.01, "words": words}
    return {**prediction, "explanation": explanation}


@pytest.mark.parametrize("body", BODIES)
def test_every_schema_is_valid_draft_2020_12(body):
    assert validator(body).META_SCHEMA["$id"].startswith("https://json-schema.org/draft/2020-12/")


def test_schema_limits_equal_params(params):
    serve, defs = params["serve"], read_schema("definitions")["$defs"]
    assert defs["Text"]["maxLength"] == serve["max_text_chars"]
    assert defs["NSteps"]["maximum"] == serve["explain_max_n_steps"]
    assert read_schema("prediction_request")["oneOf"][1]["properties"]["texts"]["maxItems"] == serve["max_batch_texts"]
    assert read_schema("explanation_request")["oneOf"][1]["properties"]["texts"]["maxItems"] == serve["explain_max_texts"]
    assert defs["PredictionFields"]["properties"]["complexity"]["properties"]["level"]["enum"] == params["complexity_levels"]
    assert all(contract_error("explanation_request", {"text": "x", "target_intent": i}) is None for i in params["intents"])


def test_handler_answers_conform(prediction, explained):
    item_error = {**ih.error_body("'texts[1]' is empty after trimming whitespace"), "index": 1}
    assert contract_error("prediction_response", prediction) is None
    assert contract_error("prediction_response", [prediction, item_error]) is None
    assert contract_error("prediction_response", ih.error_body("request body is not valid JSON")) is None
    assert contract_error("explanation_response", explained) is None
    assert contract_error("explanation_response", [explained, item_error]) is None
    assert contract_error("explanation_response", ih.error_body("explanation failed: RuntimeError", 500)) is None


def broken(answer: dict, path: str, value=None, *, delete: bool = False) -> dict:
    """A deep copy of answer with the field at "a/b/0/c" replaced (or deleted)."""
    out = copy.deepcopy(answer)
    *parents, last = [int(k) if k.isdigit() else k for k in path.split("/")]
    target = out
    for key in parents:
        target = target[key]
    if delete:
        del target[last]
    else:
        target[last] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "delete", "reason"),
    [
        ("confidence", 1.7, False, "greater than the maximum of 1"),
        ("intent", None, True, "'intent' is a required property"),
        ("cached", "no", False, "'no' is not of type 'boolean'"),
        ("complexity/level", "hard", False, "'hard' is not one of"),
        ("top_intents/0/confidence", -0.1, False, "less than the minimum of 0"),
        ("model_version", 3, False, "3 is not of type 'string'"),
        ("debug_logits", [1.0, 2.0], False, "'debug_logits' was unexpected"),
    ],
)
def test_a_broken_prediction_is_refused_with_the_reason(prediction, path, value, delete, reason):
    error = contract_error("prediction_response", broken(prediction, path, value, delete=delete))
    assert error is not None and reason in error, error


@pytest.mark.parametrize(
    ("path", "value", "delete", "reason"),
    [
        ("explanation", None, True, "'explanation' is a required property"),
        ("explanation/words/0/attribution", "high", False, "'high' is not of type 'number'"),
        ("explanation/words/0/end", None, True, "'end' is a dependency of 'start'"),
        ("explanation/n_steps", 0, False, "less than the minimum of 1"),
    ],
)
def test_a_broken_explanation_is_refused_with_the_reason(explained, path, value, delete, reason):
    error = contract_error("explanation_response", broken(explained, path, value, delete=delete))
    assert error is not None and reason in error, error


def test_an_item_error_needs_its_index(prediction):
    assert contract_error("prediction_response", [prediction, ih.error_body("bad")]) is not None


REQUESTS = [
    ("prediction_request", {"text": "Write a haiku about rain"}),
    ("prediction_request", "a bare JSON string is a prompt"),
    ("prediction_request", {"texts": ["plan a trip", "translate hi"]}),
    ("prediction_request", {"text": "   "}),
    ("prediction_request", {"text": 12}),
    ("prediction_request", {"texts": []}),
    ("prediction_request", {"texts": ["x"] * 101}),
    ("prediction_request", {"text": "x" * 5001}),
    ("prediction_request", {"text": "a", "texts": ["b"]}),
    ("prediction_request", {"text": "hi", "n_steps": 5}),
    ("prediction_request", {"text": "hi", "target_intent": "reasoning"}),
    ("prediction_request", [1, 2]),
    ("explanation_request", {"text": "Summarize this", "target_intent": "summarization", "n_steps": 20}),
    ("explanation_request", {"texts": ["a", "b"], "n_steps": 50}),
    ("explanation_request", {"text": "hi", "n_steps": 51}),
    ("explanation_request", {"text": "hi", "n_steps": True}),
    ("explanation_request", {"text": "hi", "target_intent": "Poetry!"}),
    ("explanation_request", {"texts": ["x"] * 9}),
]


@pytest.mark.parametrize(("body", "request_body"), REQUESTS)
def test_the_schema_judges_requests_as_the_handler_does(params, body, request_body):
    serve = params["serve"]
    parsed = ih.parse_request(
        json.dumps(request_body).encode(), "application/json", max_chars=serve["max_text_chars"],
        max_texts=serve["max_batch_texts"], intents=params["intents"], explain=body == "explanation_request",
        n_steps_max=serve["explain_max_n_steps"], max_explain_texts=serve["explain_max_texts"],
    )
    handler_accepts = "error" not in parsed and all(isinstance(item, str) for item in parsed["items"])
    assert (contract_error(body, request_body) is None) == handler_accepts, contract_error(body, request_body)
