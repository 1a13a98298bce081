"""The .mar stands alone: unpacked into an empty directory, its handler loads and answers with no
project checkout importable, as a TorchServe worker on another machine would run it."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import pytest

from tests.serving_helpers import build_tiny_model_dir

# Runs in a fresh interpreter whose cwd is the unpacked archive. The project is pip-installed in
# editable mode, so its import finder is dropped first: only the archive's own files can be found.
WORKER = r"""
import asyncio, json, sys
sys.meta_path = [f for f in sys.meta_path if "__editable__" not in getattr(f, "__module__", "") + repr(f)]
sys.path = ["."] + [p for p in sys.path[1:] if "site-packages" in p or "lib/python" in p]
for name in [m for m in sys.modules if m.split(".")[0] in ("pipeline", "model_src", "handlers")]:
    del sys.modules[name]
import yaml, ts
from ts.context import Context, RequestProcessor
from ts.metrics.metric_cache_yaml_impl import MetricsCacheYamlImpl
from pathlib import Path

import intent_handler

metrics = MetricsCacheYamlImpl(str(Path(ts.__file__).parent / "configs" / "metrics.yaml"))
metrics.initialize_cache()
metrics.model_name = "intent_classifier"
manifest = json.loads(Path("MAR-INF/MANIFEST.json").read_text())
ctx = Context("intent_classifier", ".", manifest, 8, None, ts.__version__, metrics=metrics,
              model_yaml_config=yaml.safe_load(Path("model-config.yaml").read_text()))
handler = intent_handler.IntentHandler()
handler.initialize(ctx)
handler.settings["redis_url"] = None
ctx.request_processor = [RequestProcessor({"explain": "False", "Content-Type": "application/json"}) for _ in range(2)]
ctx.request_ids = {0: "a", 1: "b"}
ctx.metrics.request_ids = ctx.request_ids
# bytes, as TorchServe hands bodies over with decode_input_request=false (config.properties)
answers = handler.handle([{"body": b'{"text": "write a haiku about autumn"}'}, {"body": b'{"text": ""}'}], ctx)
if asyncio.iscoroutine(answers):  # the archive's default: TorchServe's async mode awaits what handle returns
    answers = asyncio.run(answers)
try:
    import pipeline  # noqa: F401
    leaked = True
except ImportError:
    leaked = False
print(json.dumps({"answers": answers, "pipeline_importable": leaked,
                  "project_modules": sorted(m for m in sys.modules if m.split(".")[0] in ("pipeline",))}))
"""


@pytest.mark.slow
def test_handler_loads_from_the_unpacked_archive_alone(tmp_path, tiny_encoder_dir, params):
    from pipeline.deploy.archive import MODEL_SRC, ArchiveRequest, build_archive

    model_dir = build_tiny_model_dir(tiny_encoder_dir, tmp_path / "model", params, temperature=1.5)
    mar = build_archive(ArchiveRequest(model_dir=model_dir, version="3", model_store=tmp_path / "store"), params)
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(mar) as archive:
        archive.extractall(unpacked)
        packed = {n for n in archive.namelist() if n.startswith("model_src/") and n.endswith(".py")}
    assert packed == {f"model_src/{p.name}" for p in MODEL_SRC.glob("*.py")}  # model_src/ whole

    done = subprocess.run([sys.executable, "-c", WORKER], cwd=unpacked, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["pipeline_importable"] is False and out["project_modules"] == []
    good, bad = out["answers"]
    assert good["intent"] in params["intents"] and good["model_version"] == "3"
    assert set(good["complexity"]) == {"level", "score"}
    assert bad["code"] == 400
