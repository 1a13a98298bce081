"""Shared by the handler unit tests and the TorchServe integration tests: a tiny saved model and
a TorchServe Context built from TorchServe's own classes (no server)."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path


def build_tiny_model_dir(encoder_dir: Path, out: Path, params: dict, *, seed: int = 0, temperature: float | None = None) -> Path:
    """An untrained classifier on the tiny encoder, saved as training saves it (+ calibration.json)."""
    import torch

    from model_src.features import FEATURE_NAMES
    from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

    torch.manual_seed(seed)
    model = IntentClassifier.from_encoder(
        encoder_dir,
        intents=params["intents"],
        complexity_levels=params["complexity_levels"],
        feature_names=list(FEATURE_NAMES),
        max_length=64,
    )
    model.save_pretrained(out, tokenizer=load_tokenizer(encoder_dir, 64))
    if temperature is not None:
        (out / "calibration.json").write_text(json.dumps({"temperature": temperature}))
    return out


def make_context(model_dir: Path, params: dict, version: str = "1.0"):
    """A real ts.context.Context with the archive's model-config.yaml and a YAML metrics cache."""
    import ts
    from ts.context import Context
    from ts.metrics.metric_cache_yaml_impl import MetricsCacheYamlImpl

    from pipeline.deploy.archive import model_config_yaml

    metrics = MetricsCacheYamlImpl(str(Path(ts.__file__).parent / "configs" / "metrics.yaml"))
    metrics.initialize_cache()
    metrics.model_name = "intent_classifier"
    manifest = {"model": {"modelName": "intent_classifier", "modelVersion": version}}
    return Context("intent_classifier", str(model_dir), manifest, 8, None, ts.__version__,
                   metrics=metrics, model_yaml_config=model_config_yaml(params))


def set_requests(context, headers: list[dict]) -> None:
    """Per-request headers of the next batch, as the worker sets them before calling handle."""
    from ts.context import RequestProcessor

    context.request_processor = [RequestProcessor(h) for h in headers]
    context.request_ids = {i: f"req-{i}" for i in range(len(headers))}
    context.metrics.request_ids = context.request_ids


@contextlib.contextmanager
def started(ts, request, timeout: float = 180):
    """A fixture's TorchServe, started; stopped whatever the tests did, its log tail printed when
    one of them failed (`request`: the fixture's pytest request)."""
    ts.start(timeout=timeout)
    failed_before = request.session.testsfailed
    try:
        yield ts
    finally:
        if request.session.testsfailed > failed_before:
            print("\n--- TorchServe log tail ---\n" + ts.log_tail(80))
        ts.stop()
