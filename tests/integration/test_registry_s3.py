"""Registry end to end on real servers: MLflow server (loopback, one worker, Host checks) whose
artefacts live on SeaweedFS S3; a tiny trained model is registered, promoted by the gate, and
loaded back through `models:/intent_classifier@champion`.
"""

from __future__ import annotations

import copy
import shutil
import urllib.error
import urllib.request

import numpy as np
import pytest

from pipeline.deploy import registry
from pipeline.services import free_port
from pipeline.services.mlflow_server import start_mlflow_server
from pipeline.services.s3 import s3_client, start_s3_server
from tests.train_helpers import tiny_params

pytestmark = [pytest.mark.integration, pytest.mark.slow]

BUCKET = "mlflow-artifacts"


@pytest.fixture()
def s3(tmp_path):
    server = start_s3_server(tmp_path / "s3data", tmp_path / "s3.log", port=free_port())
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def mlflow_on_s3(s3, tmp_path):
    server = start_mlflow_server(
        f"sqlite:///{tmp_path}/mlflow.db", f"s3://{BUCKET}/registry-test", tmp_path / "mlflow.log",
        env=s3.client_environment,
    )
    try:
        yield server
    finally:
        server.stop()


def test_register_promote_and_load_champion_through_s3(mlflow_on_s3, s3, tmp_path, params, tiny_encoder_dir, tiny_rows):
    from model_src.intent_classifier_model import IntentClassifier
    from pipeline.modeling.predict import Predictor
    from pipeline.modeling.train import run_training

    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows, epochs=1)
    model_dir = run_training(p, log_to_mlflow=False)["model_dir"]
    p = copy.deepcopy(p)
    p["mlflow"].update(tracking_uri=mlflow_on_s3.url, artifact_location=None)  # server-proxied artefacts
    p["registry"].update(cache_dir=str(tmp_path / "cache"), report_dir=str(tmp_path / "promotion"),
                         promotion_log=str(tmp_path / "promotion_log.jsonl"))

    first = registry.register_model(model_dir, p)
    keys = [o["Key"] for o in s3_client(s3.port).list_objects_v2(Bucket=BUCKET).get("Contents", [])]
    # the version is a pyfunc (MLmodel) with the model directory inside
    assert any(k.endswith("/model/MLmodel") for k in keys), keys
    assert any(k.endswith("/model/artifacts/model_dir/model.safetensors") for k in keys), keys
    assert registry.promote(params=p).accepted  # the first model becomes champion

    local = registry.resolve_model_path("models:/intent_classifier@champion", p)
    assert local.is_relative_to(tmp_path / "cache")
    IntentClassifier.from_pretrained(local)  # loads: safetensors + config downloaded intact
    texts = [r["text"] for r in tiny_rows[:5]]
    np.testing.assert_allclose(Predictor(local).predict_proba(texts)[0], Predictor(model_dir).predict_proba(texts)[0],
                               rtol=1e-5, atol=1e-6)

    import mlflow

    pyfunc = mlflow.pyfunc.load_model("models:/intent_classifier@champion")  # through the server, from S3
    assert pyfunc.predict([{"text": texts[0]}])[0]["intent"] in p["intents"]

    # the same model again gains nothing: the gate refuses it and the champion stays
    shutil.rmtree(tmp_path / "cache")
    second = registry.register_model(model_dir, p)
    decision = registry.promote(params=p)
    assert not decision.accepted and decision.champion_version == first.version
    assert registry.resolve_alias("champion", p)[0] == first.version
    assert registry.resolve_alias("challenger", p)[0] == second.version

    # DNS-rebinding protection: a foreign Host header is refused
    req = urllib.request.Request(f"{mlflow_on_s3.url}/api/2.0/mlflow/experiments/search?max_results=1",
                                 headers={"Host": "attacker.example"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 403
