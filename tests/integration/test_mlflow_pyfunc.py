"""The registered model is an MLflow pyfunc: `mlflow.pyfunc.load_model("models:/intent_classifier@champion")`
loads it in an interpreter where no project code is importable, and `mlflow models serve` answers a
real request on a loopback port. Its answers equal the TorchServe handler's on the realistic dev
set, and the archive packs the very ONNX file the pyfunc runs (one stored copy)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
import zipfile

import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.deploy import registry
from pipeline.deploy.archive import ONNX_FILE, ArchiveRequest, build_archive, local_version
from pipeline.services.mlflow_model_server import start_model_server
from tests.serving_helpers import build_tiny_model_dir, make_context, set_requests

pytestmark = pytest.mark.integration

CHAMPION_URI = "models:/intent_classifier@champion"
CHUNK = 100  # texts per request, the API's limit

# A fresh interpreter in an empty directory: the editable install's finder and the checkout are
# dropped, so only what the logged model carries (its code and model_src/) can be imported.
CLEAN_LOAD = r"""
import json, sys
sys.meta_path = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "") + repr(f)]
sys.path = [p for p in sys.path[1:] if "site-packages" in p or "lib/python" in p]
import mlflow
model = mlflow.pyfunc.load_model(sys.argv[1])
texts = json.load(open(sys.argv[2]))
answers = [a for i in range(0, len(texts), 100) for a in model.predict([{"text": t} for t in texts[i:i + 100]])]
try:
    import pipeline  # noqa: F401
    leaked = True
except ImportError:
    leaked = False
print(json.dumps({"answers": answers, "pipeline_importable": leaked}))
"""


@pytest.fixture(scope="module")
def registered(params, tmp_path_factory, tiny_encoder_dir):
    """(params on a throwaway store whose champion is a tiny model with ONNX runtime, the model dir)."""
    root = tmp_path_factory.mktemp("pyfunc_registry")
    p = copy.deepcopy(params)
    p["mlflow"].update(tracking_uri=f"sqlite:///{root}/mlflow.db", artifact_location=(root / "mlruns").as_uri(),
                       registered_model="intent_classifier")
    p["registry"].update(cache_dir=str(root / "cache"))
    p["serve"] = {**p["serve"], "runtime": "onnx"}
    model_dir = build_tiny_model_dir(tiny_encoder_dir, root / "model", p, temperature=1.5)
    version = registry.register_model(model_dir, p, alias=None).version
    registry.set_alias("champion", version, p)
    return p, model_dir


@pytest.fixture(scope="module")
def realistic_texts() -> list[str]:
    path = PROJECT_ROOT / "eval_sets" / "realistic_dev.jsonl"
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def handler_answers(model_dir, params, texts: list[str]) -> list[dict]:
    """The TorchServe handler on model_dir, asked in {"texts": [...]} requests of CHUNK texts."""
    from handlers.intent_handler import IntentHandler

    handler = IntentHandler()
    ctx = make_context(model_dir, params, version="1")
    handler.initialize(ctx)
    handler.settings["redis_url"] = None
    handler.prediction_log = None
    out = []
    for start in range(0, len(texts), CHUNK):
        set_requests(ctx, [{"Content-Type": "application/json", "explain": "False"}])
        out += handler.handle([{"body": json.dumps({"texts": texts[start:start + CHUNK]}).encode()}], ctx)[0]
    return out


def test_pyfunc_loads_from_a_clean_interpreter_and_answers_as_the_handler(registered, realistic_texts, tmp_path):
    params, model_dir = registered
    texts_file = tmp_path / "texts.json"
    texts_file.write_text(json.dumps(realistic_texts))
    result = subprocess.run(
        [sys.executable, "-c", CLEAN_LOAD, CHAMPION_URI, str(texts_file)], cwd=tmp_path, capture_output=True,
        text=True, env={**_env(), "MLFLOW_TRACKING_URI": params["mlflow"]["tracking_uri"]}, timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["pipeline_importable"] is False

    served_dir = registry.resolve_alias("champion", params)[1]
    assert (served_dir / ONNX_FILE).is_file()
    served = handler_answers(served_dir, params, realistic_texts)
    pyfunc = loaded["answers"]
    assert len(pyfunc) == len(served) == len(realistic_texts) > 100
    assert {a["model_version"] for a in pyfunc} == {local_version(model_dir)}
    assert [{**a, "model_version": "1"} for a in pyfunc] == served


def test_archive_packs_the_onnx_file_the_pyfunc_runs(registered, tmp_path):
    from pipeline.modeling.onnx_export import export_onnx

    params, _ = registered
    version, registered_dir = registry.resolve_alias("champion", params)
    mar = build_archive(ArchiveRequest(model_dir=registered_dir, version=version, model_store=tmp_path / "a"), params)
    with zipfile.ZipFile(mar) as archive:
        assert archive.read(ONNX_FILE) == (registered_dir / ONNX_FILE).read_bytes()
    # a version whose file differs from what the archive would export (fp32): still packed as it is
    model_dir = tmp_path / "fp32"
    shutil.copytree(registered_dir, model_dir)
    export_onnx(model_dir, model_dir / ONNX_FILE, quantize=False)
    mar = build_archive(ArchiveRequest(model_dir=model_dir, version=version, model_store=tmp_path / "b"), params)
    with zipfile.ZipFile(mar) as archive:
        assert archive.read(ONNX_FILE) == (model_dir / ONNX_FILE).read_bytes()


def test_mlflow_models_serve_answers_a_request(registered, tmp_path):
    import mlflow

    params, _ = registered
    texts = ["Write a Python function that reverses a linked list", "   "]
    server = start_model_server(CHAMPION_URI, params["mlflow"]["tracking_uri"], tmp_path / "serve.log")
    try:
        answers = server.invoke(texts)
    finally:
        server.stop()
    expected = mlflow.pyfunc.load_model(CHAMPION_URI).predict([{"text": t} for t in texts])
    assert answers == expected
    assert answers[1] == {"error": "'text' is empty after trimming whitespace", "code": 400}
    assert answers[0]["intent"] in params["intents"]


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
