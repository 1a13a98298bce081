"""The storage layout KServe's TorchServe runtime loads, built from one .mar (`make kserve-package`).

KServe's storage initializer copies the InferenceService's storageUri into /mnt/models, and the
runtime starts `torchserve --model-store=/mnt/models/model-store
--ts-config=/mnt/models/config/config.properties`. So each version is one S3 prefix holding

    config/config.properties     TorchServe settings + model_snapshot naming the archive (default version)
    model-store/<model>.mar

and a canary is the same InferenceService pointed at the next prefix with canaryTrafficPercent
(serve_config/kserve/). The config starts from the project's hardened config.properties and
changes only what the pod needs (listen inside the pod, KServe's paths, no management API: in
KServe a new version is a new revision, not a registration).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.deploy.rollout import mar_manifest
from pipeline.services.torchserve import override_properties

CONFIG_TEMPLATE = PROJECT_ROOT / "config.properties"
MODEL_CONFIG = PROJECT_ROOT / "serve_config" / "model-config.yaml"
MOUNT = "/mnt/models"

# What differs from config.properties inside a KServe pod, and why. Every TorchServe port stays on
# the pod's loopback: only the KServe model server (serve_config/kserve/kserve_wrapper.py, same
# container) listens on the pod IP, so nothing reaches TorchServe around it.
POD_OVERRIDES = {
    # the KServe model server forwards here (127.0.0.1:8085, as in KServe's TorchServe samples)
    "inference_address": "http://127.0.0.1:8085",
    # model registration is not how KServe changes versions: the wrapper only reads readiness here
    "management_address": "http://127.0.0.1:8081",
    # read by the queue-proxy's metric aggregation, which shares the pod's network namespace
    "metrics_address": "http://127.0.0.1:8082",
    "enable_metrics_api": "true",
    "model_store": f"{MOUNT}/model-store",
    "allowed_urls": f"file://{MOUNT}/model-store/[^/]+\\\\.mar",
    "enable_model_api": "false",
    # the KServe model server sends no TorchServe token; only loopback reaches these ports
    "disable_token_authorization": "true",
    # no enable_envvars_config: the runtime's TS_SERVICE_ENVELOPE is ignored and no envelope is set.
    # The handler reads KServe v1 and v2 bodies itself; TorchServe's envelopes answer one request
    # per batch (batching breaks) and kservev2 keeps one text per BYTES tensor.
}


def model_snapshot(model_name: str, version: str, mar_name: str, model_config: dict) -> dict:
    """The snapshot that makes TorchServe load the archive at start as the default version."""
    return {
        "name": "startup.cfg",
        "modelCount": 1,
        "models": {
            model_name: {
                version: {
                    "defaultVersion": True,
                    "marName": mar_name,
                    "minWorkers": int(model_config["minWorkers"]),
                    "maxWorkers": int(model_config["maxWorkers"]),
                    "batchSize": int(model_config["batchSize"]),
                    "maxBatchDelay": int(model_config["maxBatchDelay"]),
                    "responseTimeout": int(model_config["responseTimeout"]),
                }
            }
        },
    }


def config_properties(snapshot: dict, template: Path = CONFIG_TEMPLATE) -> str:
    """config.properties text for the pod: the template's settings with POD_OVERRIDES applied."""
    overrides = {**POD_OVERRIDES, "model_snapshot": json.dumps(snapshot, separators=(",", ":"))}
    return override_properties(template.read_text(encoding="utf-8"), overrides,
                               appended_header="# KServe pod settings (pipeline/deploy/kserve.py)")


def archived_async(mar: Path) -> bool:
    """Whether the archive's own model-config.yaml turns on TorchServe's asynchronous mode."""
    with zipfile.ZipFile(mar) as z:
        names = [n for n in z.namelist() if n.rsplit("/", 1)[-1] == "model-config.yaml"]
        return any((yaml.safe_load(z.read(n)) or {}).get("asyncCommunication") for n in names)


def build_package(mar: Path, out_root: Path, model_config_path: Path = MODEL_CONFIG,
                  max_batch_delay_ms: int | None = None) -> Path:
    """out_root/<model>/v<version>/{config/config.properties, model-store/<model>.mar}; returns that dir.

    max_batch_delay_ms (params serve.max_batch_delay_ms) replaces model-config.yaml's delay in the
    snapshot: a snapshot, unlike a model-config.yaml, can say 0 (as `make serve` registers).
    """
    model_name, version = mar_manifest(mar)
    if archived_async(mar):
        raise ValueError(f"{mar} was archived for TorchServe's asynchronous mode (serve.async_backend): the KServe "
                         "envelope calls handle() synchronously; archive it with serve.async_backend: false")
    model_config = yaml.safe_load(model_config_path.read_text(encoding="utf-8"))
    if max_batch_delay_ms is not None:
        model_config["maxBatchDelay"] = int(max_batch_delay_ms)
    missing = [k for k in ("minWorkers", "maxWorkers", "batchSize", "maxBatchDelay", "responseTimeout") if k not in model_config]
    if missing:
        raise ValueError(f"{model_config_path}: missing {missing} (the KServe model_snapshot needs them)")
    target = out_root / model_name / f"v{version}"
    if target.exists():
        shutil.rmtree(target)
    (target / "config").mkdir(parents=True)
    (target / "model-store").mkdir()
    mar_name = f"{model_name}.mar"
    shutil.copy2(mar, target / "model-store" / mar_name)
    snapshot = model_snapshot(model_name, version, mar_name, model_config)
    (target / "config" / "config.properties").write_text(config_properties(snapshot), encoding="utf-8")
    return target
