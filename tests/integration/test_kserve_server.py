"""KServe protocols for real: the KServe model server (its own venv, `make kserve-venv`) in front of
TorchServe started from the pod's config (`make kserve-package` layout), both on loopback; each
answer is compared row by row with the native TorchServe API of the project's own server.

Stacks: v1 and v2 as the package runs them (no envelope), and v1 with TorchServe's
service_envelope=kserve, as KServe's stock runtime sets it (the bug of issue 18: one instance
answered "no request body", two a 503).
"""

from __future__ import annotations

import json

import pytest
import requests

from pipeline.deploy.kserve import build_package
from pipeline.services import free_port
from pipeline.services.kserve import KServeModelServer, kserve_python
from pipeline.services.torchserve import TorchServe, override_properties

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "intent_classifier"
TEXTS = [
    "write a haiku about autumn",
    "hey can u help me plan my sisters 30th bday, 3 weeks and 500 bucks",
    "fix this: for i in range(10) print(i)",
    "Summarize the meeting notes below: budget approved, launch moved to May",
    "what is the capital of Australia?",
]
BATCH = [f"{TEXTS[i % len(TEXTS)]} (variant {i})" for i in range(100)]
# 100 texts of 5,000 two-byte characters: a ~1 MB body within max_request_size (1,048,576 bytes)
LARGE = [f"{i} " + "é" * 4990 for i in range(100)]


@pytest.fixture(scope="session")
def kserve_venv_python():
    return kserve_python()


def start_stack(tiny_mar_store, kserve_venv_python, tmp_path_factory, protocol: str, envelope: str | None):
    store, _ = tiny_mar_store
    root = tmp_path_factory.mktemp(f"kserve_{protocol}_{envelope or 'plain'}")
    package = build_package(store / f"{MODEL}.mar", root / "package")
    template = package / "config" / "config.properties"
    if envelope:
        template.write_text(override_properties(template.read_text(), {"service_envelope": envelope}))
    ts = TorchServe(model_store=package / "model-store", run_dir=root / "ts", template=template, token_auth=False,
                    inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                    grpc_ports=(free_port(), free_port()))
    ts.start(timeout=180)
    try:
        ts.wait_model_ready(MODEL, timeout=180)
        server = KServeModelServer(kserve_venv_python, ts.config_path(), root, protocol=protocol, http_port=free_port())
        server.start(timeout=240)
    except Exception:
        ts.stop()
        raise
    return ts, server


@pytest.fixture(scope="module", params=["plain", "kserve_envelope"])
def kserve_v1(request, tiny_mar_store, kserve_venv_python, tmp_path_factory):
    envelope = "kserve" if request.param == "kserve_envelope" else None
    ts, server = start_stack(tiny_mar_store, kserve_venv_python, tmp_path_factory, "v1", envelope)
    failed_before = request.session.testsfailed
    yield server
    if request.session.testsfailed > failed_before:
        print("\n--- KServe log ---\n" + server.log_tail(60) + "\n--- TorchServe log ---\n" + ts.log_tail(60))
    server.stop()
    ts.stop()


@pytest.fixture(scope="module")
def kserve_v2(request, tiny_mar_store, kserve_venv_python, tmp_path_factory):
    ts, server = start_stack(tiny_mar_store, kserve_venv_python, tmp_path_factory, "v2", None)
    failed_before = request.session.testsfailed
    yield server, ts
    if request.session.testsfailed > failed_before:
        print("\n--- KServe log ---\n" + server.log_tail(60) + "\n--- TorchServe log ---\n" + ts.log_tail(60))
    server.stop()
    ts.stop()


def native(ts: TorchServe, texts: list[str], explain: bool = False) -> list[dict]:
    """The native API's answers, one per text (the reference every KServe answer is compared with)."""
    path = f"{'explanations' if explain else 'predictions'}/{MODEL}"
    body = json.dumps({"texts": texts}, ensure_ascii=False).encode()
    response = requests.post(ts.inference_url(path), data=body, timeout=120,
                             headers={**ts.headers(), "Content-Type": "application/json"})
    assert response.status_code == 200, response.text
    return response.json()


def post(server: KServeModelServer, path: str, body) -> requests.Response:
    data = json.dumps(body, ensure_ascii=False).encode()
    return requests.post(server.url(path), data=data, headers={"Content-Type": "application/json"}, timeout=120)


# --- v1 ------------------------------------------------------------------------------------

@pytest.mark.parametrize("texts", [TEXTS[:1], TEXTS[:2], BATCH], ids=["single", "two", "batch_100"])
def test_v1_predict_answers_every_instance_as_the_native_api(kserve_v1, module_torchserve, texts):
    response = post(kserve_v1, f"v1/models/{MODEL}:predict", {"instances": [{"text": t} for t in texts]})
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == native(module_torchserve, texts)


def test_v1_bad_instances_get_their_own_error_and_the_others_are_answered(kserve_v1, module_torchserve):
    instances = [{"text": TEXTS[0]}, {"text": "  "}, TEXTS[2], {"prompt": TEXTS[3]}, 42, {"text": TEXTS[4]}]
    response = post(kserve_v1, f"v1/models/{MODEL}:predict", {"instances": instances})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    expected = native(module_torchserve, [TEXTS[0], TEXTS[2], TEXTS[4]])
    assert [predictions[0], predictions[2], predictions[5]] == expected
    for bad in (1, 3, 4):
        assert predictions[bad]["code"] == 400 and predictions[bad]["index"] == bad


@pytest.mark.parametrize("instances", [[], [{"text": "a"}] * 101], ids=["none", "101"])
def test_v1_instance_counts_out_of_bounds_are_a_400(kserve_v1, instances):
    response = post(kserve_v1, f"v1/models/{MODEL}:predict", {"instances": instances})
    assert response.status_code == 400 and "instances" in response.text


def test_v1_explain_matches_the_native_explanation(kserve_v1, module_torchserve):
    response = post(kserve_v1, f"v1/models/{MODEL}:explain", {"instances": [{"text": TEXTS[1]}]})
    assert response.status_code == 200, response.text
    (explanation,) = response.json()["explanations"]
    assert explanation == native(module_torchserve, TEXTS[1:2], explain=True)[0]
    assert explanation["explanation"]["words"]


def test_v1_one_megabyte_body_is_answered_and_a_larger_one_refused(kserve_v1, module_torchserve):
    response = post(kserve_v1, f"v1/models/{MODEL}:predict", {"instances": [{"text": t} for t in LARGE]})
    assert response.status_code == 200, response.text
    assert response.json()["predictions"] == native(module_torchserve, LARGE)
    # the same 100 texts in three-byte characters: ~1.5 MB, over max_request_size
    too_large = post(kserve_v1, f"v1/models/{MODEL}:predict", {"instances": [{"text": t.replace("é", "€")} for t in LARGE]})
    assert too_large.status_code == 400 and "TorchServe answered 413" in too_large.text


# --- v2 / Open Inference Protocol ------------------------------------------------------------

def infer(server, texts, datatype="BYTES", shape=None):
    tensor = {"name": "text", "datatype": datatype, "shape": shape if shape is not None else [len(texts)], "data": texts}
    return post(server, f"v2/models/{MODEL}/infer", {"id": "req-7", "inputs": [tensor]})


@pytest.mark.parametrize("texts", [TEXTS[:1], BATCH, LARGE], ids=["single", "batch_100", "one_megabyte"])
def test_v2_infer_answers_typed_tensors_equal_to_the_native_api(kserve_v2, module_torchserve, texts):
    server, _ = kserve_v2
    response = infer(server, texts)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["id"] == "req-7" and answer["model_name"] == MODEL
    outputs = {o["name"]: o for o in answer["outputs"]}
    n = len(texts)
    assert {k: (o["datatype"], o["shape"]) for k, o in outputs.items()} == {
        "intent": ("BYTES", [n]), "confidence": ("FP32", [n]),
        "complexity_level": ("BYTES", [n]), "complexity_score": ("FP32", [n]),
    }
    for i, expected in enumerate(native(module_torchserve, texts)):
        assert outputs["intent"]["data"][i] == expected["intent"]
        assert outputs["confidence"]["data"][i] == pytest.approx(expected["confidence"], abs=1e-6)
        assert outputs["complexity_level"]["data"][i] == expected["complexity"]["level"]
        assert outputs["complexity_score"]["data"][i] == pytest.approx(expected["complexity"]["score"], abs=1e-6)


@pytest.mark.parametrize(
    ("texts", "datatype", "shape", "fragment"),
    [
        ([1.5, 2.5], "FP32", None, "BYTES"),
        ([], "BYTES", None, "1..100"),
        ([TEXTS[0], "   "], "BYTES", None, "text[1]"),
        (BATCH + ["one more"], "BYTES", None, "1..100"),
    ],
    ids=["wrong_datatype", "empty_tensor", "bad_row", "101_texts"],
)
def test_v2_bad_tensors_are_a_400_with_the_reason(kserve_v2, texts, datatype, shape, fragment):
    server, _ = kserve_v2
    response = infer(server, texts, datatype, shape)
    assert response.status_code == 400 and fragment in response.text, response.text


def test_v2_metadata_readiness_and_the_native_api_on_the_same_torchserve(kserve_v2, module_torchserve):
    server, ts = kserve_v2
    metadata = requests.get(server.url(f"v2/models/{MODEL}"), timeout=30).json()
    assert metadata["name"] == MODEL
    assert metadata["inputs"] == [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
    assert [o["name"] for o in metadata["outputs"]] == ["intent", "confidence", "complexity_level", "complexity_score"]
    assert requests.get(server.url("v2/health/ready"), timeout=30).status_code == 200
    assert requests.get(server.url(f"v2/models/{MODEL}/ready"), timeout=30).status_code == 200
    # the pod's TorchServe (no envelope, no token, loopback) still answers its native API
    assert native(ts, TEXTS) == native(module_torchserve, TEXTS)
