"""Shared integration fixtures: a model store with two tiny .mar versions (built once per session),
one TorchServe per test module on free loopback ports and the canary nginx in front of it, stopped
whatever the tests did."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.deploy.archive import ArchiveRequest, build_archive
from pipeline.services import free_port
from pipeline.services.nginx import NginxProxy, Routing
from pipeline.services.torchserve import TorchServe
from tests.serving_helpers import build_tiny_model_dir, started

MODEL = "intent_classifier"


@pytest.fixture(scope="session")
def tiny_mar_store(tmp_path_factory, tiny_encoder_dir, params) -> tuple[Path, Path]:
    """(model store with intent_classifier.mar = version 1 and intent_classifier_v2.mar = version 2,
    the tiny model directory both were built from)."""
    root = tmp_path_factory.mktemp("tiny_mars")
    model_dir = build_tiny_model_dir(tiny_encoder_dir, root / "model", params)
    store = root / "model_store"
    for version, mar_name in (("1", MODEL), ("2", f"{MODEL}_v2")):
        build_archive(ArchiveRequest(model_dir=model_dir, version=version, mar_name=mar_name, model_store=store), params)
    return store, model_dir


@pytest.fixture(scope="session")
def configured_workers() -> int:
    """Workers per model version as archived from serve_config/model-config.yaml (minWorkers)."""
    return int(yaml.safe_load((PROJECT_ROOT / "serve_config" / "model-config.yaml").read_text())["minWorkers"])


@pytest.fixture(scope="module")
def torchserve_env() -> dict[str, str]:
    """Extra environment of the module's TorchServe (override in a module, e.g. a Redis URL). By
    default the cache points at a loopback port nobody listens on: a Redis the user runs on the
    params' port (make serve's) must not answer the tests, and cache-down is then deterministic."""
    return {"INTENT_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}


@pytest.fixture(scope="module")
def module_torchserve(tiny_mar_store, torchserve_env, tmp_path_factory, request):
    """TorchServe serving intent_classifier version 1, token auth on, config.properties hardening."""
    store, _ = tiny_mar_store
    ts = TorchServe(model_store=store, run_dir=tmp_path_factory.mktemp("ts_run"), models={MODEL: f"{MODEL}.mar"},
                    inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                    grpc_ports=(free_port(), free_port()), env=torchserve_env)
    with started(ts, request):
        yield ts


@pytest.fixture(scope="module")
def canary_stack(module_torchserve, params, tmp_path_factory):
    """(the module's TorchServe, the canary proxy in front of it routing everything to its default
    version, the model store)."""
    from pipeline.deploy.rollout import proxy_limits

    ts = module_torchserve
    proxy = NginxProxy(
        upstream_port=ts.inference_port, listen_port=free_port(), prefix=tmp_path_factory.mktemp("canary_nginx"), model_name=MODEL,
        limits=proxy_limits(params, ts),
    )
    try:
        proxy.start(Routing(ts.default_version(MODEL)))
        yield ts, proxy, Path(ts.model_store)
    finally:
        print("\n--- nginx error log ---\n" + proxy.log_tail(20))
        proxy.stop()
