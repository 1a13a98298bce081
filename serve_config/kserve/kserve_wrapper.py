#!/usr/bin/env python
"""The KServe model server in front of TorchServe, as in a KServe TorchServe pod (own venv: kserve).

    python kserve_wrapper.py [--config /mnt/models/config/config.properties] [--protocol v1|v2]
                             [--http-port 8080] [--bind 0.0.0.0]

Reads the TorchServe config.properties the pod starts TorchServe with (inference and management
addresses, model names from model_snapshot), waits until each model has a READY worker, then
serves KServe's v1 (/v1/models/<name>:predict|:explain) and v2 / Open Inference Protocol
(/v2/models/<name>/infer, metadata, /v2/health/ready) APIs and forwards each request to TorchServe's
own /v1 or /v2 route. Written after pytorch/serve's kubernetes/kserve/kserve_wrapper, with two
differences: a 4xx from TorchServe stays a 400 naming TorchServe's reason (not a 500), and the v2
metadata names the handler's tensors. Runs only with the kserve package (no torch, no project code).
Exit codes: 0 stopped, 2 bad configuration, 3 a model never became ready.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request

DEFAULT_CONFIG = "/mnt/models/config/config.properties"
READY_TIMEOUT_SECONDS = 300.0

INPUT_TENSORS = [{"name": "text", "datatype": "BYTES", "shape": [-1]}]
OUTPUT_TENSORS = [
    {"name": "intent", "datatype": "BYTES", "shape": [-1]},
    {"name": "confidence", "datatype": "FP32", "shape": [-1]},
    {"name": "complexity_level", "datatype": "BYTES", "shape": [-1]},
    {"name": "complexity_score", "datatype": "FP32", "shape": [-1]},
]


def read_torchserve_config(path: str) -> dict:
    """inference/management addresses and model names of a TorchServe config.properties."""
    props = {}
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                props[key.strip()] = value.strip()
    snapshot = json.loads(props.get("model_snapshot", "{}"))
    names = list(snapshot.get("models", {}))
    if not names:
        raise ValueError(f"{path}: model_snapshot names no model")
    return {
        "inference_address": props.get("inference_address", "http://127.0.0.1:8085"),
        "management_address": props.get("management_address", "http://127.0.0.1:8081"),
        "models": names,
    }


def wait_ready(management_address: str, name: str, timeout: float) -> bool:
    """Poll TorchServe's describe until the model's default version has a READY worker."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{management_address}/models/{name}", timeout=5) as response:
                described = json.loads(response.read())
            if any(w.get("status") == "READY" for w in described[0].get("workers", [])):
                return True
        except (urllib.error.URLError, OSError, ValueError, IndexError, KeyError):
            pass
        time.sleep(0.5)
    return False


def build_model_class():
    """The kserve.Model subclass (imported late: --help works without kserve installed)."""
    import httpx
    from kserve import Model
    from kserve.errors import InvalidInput

    class TorchServeModel(Model):
        """Forwards predict/explain to TorchServe's KServe routes; readiness from its management API."""

        def __init__(self, name: str, management_address: str):
            super().__init__(name)
            self.management_address = management_address

        def load(self) -> bool:
            self.ready = wait_ready(self.management_address, self.name, READY_TIMEOUT_SECONDS)
            return self.ready

        async def predict(self, payload, headers=None, response_headers=None):
            try:
                return await super().predict(payload, headers, response_headers)
            except httpx.HTTPStatusError as exc:
                raise self.client_error(exc) from exc

        async def explain(self, payload, headers=None):
            try:
                return await self._http_client.explain(self.predictor_config.predictor_base_url, model_name=self.name,
                                                       data=payload, headers={"content-type": "application/json"})
            except httpx.HTTPStatusError as exc:
                raise self.client_error(exc) from exc

        @staticmethod
        def client_error(exc):
            """TorchServe's 4xx (a request it refused) -> KServe's 400 with the reason; 5xx stay errors."""
            if 400 <= exc.response.status_code < 500:
                return InvalidInput(f"TorchServe answered {exc.response.status_code}: {exc.response.text[:500]}")
            return exc

        def get_input_types(self):
            return INPUT_TENSORS

        def get_output_types(self):
            return OUTPUT_TENSORS

    return TorchServeModel


def bind_rest_server(host: str) -> None:
    """kserve's REST server listens on 0.0.0.0 (right in a pod); tests and laptops want loopback."""
    import uvicorn

    base = uvicorn.Config

    class BoundConfig(base):
        def __init__(self, app, **kwargs):
            super().__init__(app, **{**kwargs, "host": host})

    uvicorn.Config = BoundConfig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=os.environ.get("CONFIG_PATH", DEFAULT_CONFIG), help="TorchServe config.properties")
    parser.add_argument("--protocol", default=os.environ.get("PROTOCOL_VERSION", "v1"), choices=["v1", "v2"])
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--bind", default="0.0.0.0", help="address of the KServe REST server (0.0.0.0 in a pod)")
    args = parser.parse_args(argv)
    try:
        config = read_torchserve_config(args.config)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    sys.argv = sys.argv[:1]  # kserve parses sys.argv at import: keep our flags away from it
    from kserve import ModelServer
    from kserve.predictor_config import PredictorConfig

    model_class = build_model_class()
    models = [model_class(name, config["management_address"]) for name in config["models"]]
    for model in models:
        if not model.load():
            print(f"error: model {model.name} had no READY worker after {READY_TIMEOUT_SECONDS:.0f}s", file=sys.stderr)
            return 3
    bind_rest_server(args.bind)
    predictor = PredictorConfig(predictor_host=config["inference_address"].split("//", 1)[-1], predictor_protocol=args.protocol)
    ModelServer(http_port=args.http_port, enable_grpc=False, predictor_config=predictor).start(models)
    return 0


if __name__ == "__main__":
    sys.exit(main())
