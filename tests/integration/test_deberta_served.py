"""The DeBERTa-v3 path served, not only trained: a tiny random DeBERTa-v3-shaped encoder with its
own sentencepiece tokenizer (tests/conftest.py) is trained by run_training, archived by
build_archive with the ONNX int8 export and its parity check, and served by a real TorchServe
(runtime torch, token auth, free loopback ports); answers and explanations are checked against
the in-process Predictor.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
import requests
import yaml

from pipeline.deploy.archive import ONNX_FILE, ArchiveRequest, build_archive
from pipeline.modeling.predict import Predictor
from pipeline.modeling.train import run_training
from pipeline.services import free_port
from pipeline.services.torchserve import TorchServe
from tests.serving_helpers import started
from tests.train_helpers import tiny_params

pytestmark = pytest.mark.integration

MODEL = "intent_classifier"


@pytest.fixture(scope="module")
def trained(tmp_path_factory, params, tiny_deberta_dir, tiny_rows) -> dict:
    p = tiny_params(params, tmp_path_factory.mktemp("deberta_train"), tiny_deberta_dir, tiny_rows, epochs=2,
                    batch_size=10, checkpoint_every_steps=0)
    result = run_training(p, log_to_mlflow=False)
    return {"model_dir": result["model_dir"], "params": p}


@pytest.fixture(scope="module")
def mar(trained, tmp_path_factory):
    """The archive as `make archive ONNX=1` builds it with serve.runtime torch."""
    p = trained["params"]
    p = {**p, "serve": {**p["serve"], "runtime": "torch"}}
    request = ArchiveRequest(model_dir=Path(trained["model_dir"]), version="1", onnx=True,
                             parity_file=Path(p["paths"]["processed_dir"]) / "test.jsonl",
                             model_store=tmp_path_factory.mktemp("deberta_store"))
    return build_archive(request, p)


@pytest.fixture(scope="module")
def server(mar, torchserve_env, tmp_path_factory, request):
    ts = TorchServe(model_store=mar.parent, run_dir=tmp_path_factory.mktemp("deberta_ts"), models={MODEL: mar.name},
                    inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                    grpc_ports=(free_port(), free_port()), env=torchserve_env)
    with started(ts, request):
        yield ts


def post(ts: TorchServe, path: str, body: dict) -> requests.Response:
    return requests.post(ts.inference_url(f"{path}/{MODEL}"), data=json.dumps(body),
                         headers={"Content-Type": "application/json", **ts.headers()}, timeout=60)


def test_archive_holds_the_parity_checked_onnx_export_and_serves_torch(mar):
    with zipfile.ZipFile(mar) as archive:
        names = set(archive.namelist())
        parity = json.loads(archive.read("onnx_parity.json"))
        config = yaml.safe_load(archive.read("model-config.yaml"))
        model_config = json.loads(archive.read("model_config.json"))
    assert ONNX_FILE in names and parity["passed"] is True and parity["n"] == 30
    assert parity["top1_agreement"] >= parity["threshold"]
    assert config["handler"]["serve"]["runtime"] == "torch"
    assert model_config["encoder"]["model_type"] == "deberta-v2" and model_config["encoder"]["relative_attention"]
    assert "tokenizer.json" in names


def test_served_answers_equal_the_in_process_predictor(server, trained, tiny_rows, params):
    texts = [r["text"] for r in tiny_rows[:12]]
    response = post(server, "predictions", {"texts": texts})
    assert response.status_code == 200, response.text
    served = response.json()
    probs = Predictor(trained["model_dir"]).predict_proba(texts)[0]
    for answer, row in zip(served, probs, strict=True):
        assert answer["model_version"] == "1"
        assert answer["intent"] == params["intents"][int(row.argmax())]
        assert [answer["all_intents"][name] for name in params["intents"]] == pytest.approx(row.tolist(), abs=1e-5)


def test_explanation_with_the_sentencepiece_tokenizer(server):
    text = "Write a short poem about autumn rain"
    response = post(server, "explanations", {"text": text, "n_steps": 10})
    assert response.status_code == 200, response.text
    explanation = response.json()["explanation"]
    assert [w["word"] for w in explanation["words"]] == text.split()
    assert all(text[w["start"]:w["end"]] == w["word"] for w in explanation["words"])
    assert explanation["convergence_delta"] < 0.05
