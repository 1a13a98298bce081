"""A restart from TorchServe's snapshot takes the registered models from the snapshot and every
other setting from config.properties as it is now: a hardening edit made between two starts holds."""

from __future__ import annotations

import pytest
import requests

from pipeline.services import free_port
from pipeline.services.torchserve import CONFIG_TEMPLATE, TorchServe, override_properties, read_properties

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # two TorchServe starts

MODEL = "intent_classifier"
HARDENED_MAX_REQUEST = 4096  # bytes; config.properties ships 1 MB


def test_a_config_edit_made_after_the_snapshot_holds_across_the_restart(tiny_mar_store, tmp_path):
    store, _ = tiny_mar_store
    template = tmp_path / "config.properties"
    template.write_text(CONFIG_TEMPLATE.read_text(encoding="utf-8"), encoding="utf-8")
    ts = TorchServe(model_store=store, run_dir=tmp_path / "ts", models={MODEL: f"{MODEL}.mar"}, template=template,
                    inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                    grpc_ports=(free_port(), free_port()))
    ts.start(timeout=180)
    try:
        assert ts.register(f"{MODEL}_v2.mar").status_code == 200  # a management change: TorchServe snapshots
        ts.ensure_default(MODEL, "1")
        ts.stop()
        template.write_text(override_properties(template.read_text(encoding="utf-8"),
                                                {"max_request_size": str(HARDENED_MAX_REQUEST)}), encoding="utf-8")
        ts.start(timeout=180)
        # the models came from the snapshot ...
        assert sorted(e["modelVersion"] for e in ts.describe(MODEL)) == ["1", "2"]
        assert ts.default_version(MODEL) == "1"
        # ... and the edited setting from config.properties
        assert read_properties(ts.config_path())["max_request_size"] == str(HARDENED_MAX_REQUEST)
        oversize = requests.post(ts.inference_url(f"predictions/{MODEL}"), data=b'{"text": "' + b"a" * 8000 + b'"}',
                                 headers={**ts.headers(), "Content-Type": "application/json"}, timeout=30)
        assert oversize.status_code == 413
        small = requests.post(ts.inference_url(f"predictions/{MODEL}"), json={"text": "hello there"},
                              headers=ts.headers(), timeout=30)
        assert small.status_code == 200
    finally:
        ts.stop()
