"""KServe manifests (parsed, fields checked) and the package layout built from a .mar."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.deploy.kserve import build_package
from pipeline.services.torchserve import read_properties

KSERVE_DIR = PROJECT_ROOT / "serve_config" / "kserve"


def load(name: str) -> list[dict]:
    return [doc for doc in yaml.safe_load_all((KSERVE_DIR / name).read_text()) if doc]


def predictor(name: str) -> dict:
    (isvc,) = load(name)
    assert isvc["apiVersion"] == "serving.kserve.io/v1beta1" and isvc["kind"] == "InferenceService"
    return isvc["spec"]["predictor"]


@pytest.mark.parametrize("name", ["inferenceservice.yaml", "inferenceservice-canary.yaml"])
def test_inference_services_use_the_torchserve_runtime_from_s3_with_resources(name):
    spec = predictor(name)
    model = spec["model"]
    assert model["modelFormat"]["name"] == "pytorch"  # KServe picks its TorchServe runtime for this format
    assert model["storageUri"].startswith("s3://")
    for kind in ("requests", "limits"):
        assert set(model["resources"][kind]) == {"cpu", "memory"}
    assert spec["serviceAccountName"] == load("s3-credentials.yaml")[1]["metadata"]["name"]


def test_canary_is_the_same_service_with_a_new_version_and_a_traffic_share():
    (stable,), (canary,) = load("inferenceservice.yaml"), load("inferenceservice-canary.yaml")
    assert canary["metadata"]["name"] == stable["metadata"]["name"]  # a new revision, not a new service
    assert "canaryTrafficPercent" not in stable["spec"]["predictor"]
    percent = canary["spec"]["predictor"]["canaryTrafficPercent"]
    assert isinstance(percent, int) and 0 < percent < 100
    assert canary["spec"]["predictor"]["model"]["storageUri"] != stable["spec"]["predictor"]["model"]["storageUri"]
    # Knative revisions carry the split: canary needs Serverless mode
    assert canary["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Serverless"


def test_s3_credentials_are_placeholders_with_kserve_annotations():
    secret, account = load("s3-credentials.yaml")
    assert secret["kind"] == "Secret" and account["kind"] == "ServiceAccount"
    assert {"serving.kserve.io/s3-endpoint", "serving.kserve.io/s3-usehttps"} <= set(secret["metadata"]["annotations"])
    assert set(secret["stringData"].values()) == {"REPLACE_ME"}
    assert account["secrets"] == [{"name": secret["metadata"]["name"]}]


def fake_mar(path: Path, version: str) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("MAR-INF/MANIFEST.json", json.dumps({"model": {"modelName": "intent_classifier", "modelVersion": version}}))
    return path


def test_package_has_the_layout_and_snapshot_the_runtime_loads(tmp_path):
    mar = fake_mar(tmp_path / "intent_classifier_v7.mar", "7")
    target = build_package(mar, tmp_path / "pkg")
    assert target == tmp_path / "pkg" / "intent_classifier" / "v7"
    assert sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file()) == [
        "config/config.properties",
        "model-store/intent_classifier.mar",
    ]
    props = read_properties(target / "config" / "config.properties")
    assert props["model_store"] == "/mnt/models/model-store"
    # hardened pod: TorchServe only on the pod's loopback, behind the KServe model server
    for key in ("inference_address", "management_address", "metrics_address"):
        assert props[key].startswith("http://127.0.0.1:"), key
    assert props["inference_address"] == "http://127.0.0.1:8085"
    assert "enable_envvars_config" not in props and "service_envelope" not in props
    assert props["enable_model_api"] == "false" and props["install_py_dep_per_model"] == "false"
    snapshot = json.loads(props["model_snapshot"])
    entry = snapshot["models"]["intent_classifier"]["7"]
    assert snapshot["modelCount"] == 1 and entry["defaultVersion"] is True
    assert entry["marName"] == "intent_classifier.mar"
    model_config = yaml.safe_load((PROJECT_ROOT / "serve_config" / "model-config.yaml").read_text())
    assert entry["batchSize"] == model_config["batchSize"] and entry["maxWorkers"] == model_config["maxWorkers"]
    assert props["allowed_urls"] == r"file:///mnt/models/model-store/[^/]+\.mar"
    assert entry["maxBatchDelay"] == model_config["maxBatchDelay"]
    # rebuilt in place: no stale archive from an earlier run; the delay make serve registers with
    assert build_package(mar, tmp_path / "pkg", max_batch_delay_ms=0) == target
    props = read_properties(target / "config" / "config.properties")
    assert json.loads(props["model_snapshot"])["models"]["intent_classifier"]["7"]["maxBatchDelay"] == 0


def test_package_refuses_an_archive_built_for_the_asynchronous_mode(tmp_path):
    """KServe's envelope calls handle() synchronously: an async archive would answer coroutines."""
    mar = fake_mar(tmp_path / "intent_classifier_v8.mar", "8")
    with zipfile.ZipFile(mar, "a") as archive:
        archive.writestr("model-config.yaml", yaml.safe_dump({"asyncCommunication": True, "batchSize": 1}))
    with pytest.raises(ValueError, match="async_backend: false"):
        build_package(mar, tmp_path / "pkg")


def test_package_refuses_a_file_that_is_not_an_archive(tmp_path):
    (tmp_path / "x.mar").write_text("nope")
    with pytest.raises(ValueError, match="x.mar"):
        build_package(tmp_path / "x.mar", tmp_path / "pkg")


@pytest.mark.parametrize("name", ["inferenceservice.yaml", "inferenceservice-canary.yaml"])
def test_readiness_probe_asks_the_kserve_server_for_the_model_of_the_protocol(name):
    model = predictor(name)["model"]
    assert model["protocolVersion"] == "v1"
    probe = model["readinessProbe"]["httpGet"]
    assert probe == {"path": "/v1/models/intent_classifier", "port": 8080}


VALIDATOR = KSERVE_DIR / "validate_manifests.py"


@pytest.fixture(scope="module")
def kserve_venv_python():
    from pipeline.services.kserve import kserve_python

    return kserve_python()


def validate(python, *files: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(python), str(VALIDATOR), *map(str, files)], capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_manifests_are_valid_for_kserves_own_api_models(kserve_venv_python):
    result = validate(kserve_venv_python, *sorted(KSERVE_DIR.glob("*.yaml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problems" in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (("storageUri:", "storageUrl:"), "/spec/predictor/model/storageUrl: unknown field of V1beta1ModelSpec"),
        (("canaryTrafficPercent: 10", "canaryTrafficPercent: ten"), "/spec/predictor/canaryTrafficPercent: 'ten' is not a int"),
        (("readinessProbe:", "readinesProbe:"), "/spec/predictor/model/readinesProbe: unknown field"),
        (("        httpGet:", "        httpGett:"), "/spec/predictor/model/readinessProbe/httpGett: unknown field of V1Probe"),
    ],
)
def test_a_typo_in_a_manifest_fails_validation(kserve_venv_python, tmp_path, edit, problem):
    broken = tmp_path / "broken.yaml"
    text = (KSERVE_DIR / "inferenceservice-canary.yaml").read_text()
    assert edit[0] in text
    broken.write_text(text.replace(edit[0], edit[1], 1))
    result = validate(kserve_venv_python, broken)
    assert result.returncode == 1 and problem in result.stdout, result.stdout + result.stderr
