"""The archive of a DeBERTa-v3 model: its ONNX export passes the parity check today, and when an
export fails (a torch or transformers release the exporter cannot trace) the archive is still
built, without the ONNX file, serving with runtime torch, and says so."""

from __future__ import annotations

import json
import zipfile

import pytest
import torch
import yaml

from pipeline.deploy.archive import ONNX_FILE, ArchiveRequest, build_archive, stage
from tests.conftest import TINY_ROWS
from tests.serving_helpers import build_tiny_model_dir


@pytest.fixture(scope="module")
def deberta_model_dir(tmp_path_factory, tiny_deberta_dir, params):
    return build_tiny_model_dir(tiny_deberta_dir, tmp_path_factory.mktemp("deberta_model"), params)


@pytest.fixture
def parity_file(tmp_path):
    path = tmp_path / "test.jsonl"
    path.write_text("".join(json.dumps({"text": t}) + "\n" for rows in TINY_ROWS.values() for t in rows))
    return path


@pytest.fixture(scope="module")
def onnx_params(params):
    return {**params, "serve": {**params["serve"], "runtime": "onnx"}}


def test_deberta_export_is_packed_when_parity_passes(deberta_model_dir, onnx_params, parity_file, tmp_path):
    request = ArchiveRequest(model_dir=deberta_model_dir, version="1", parity_file=parity_file)
    staged = stage(request, onnx_params, tmp_path / "staging")
    assert {ONNX_FILE, "onnx_parity.json"} <= {p.name for p in staged["extra_files"]}
    parity = json.loads((tmp_path / "staging" / "onnx_parity.json").read_text())
    assert parity["passed"] is True and parity["n"] == 30
    assert yaml.safe_load(staged["config_file"].read_text())["handler"]["serve"]["runtime"] == "onnx"


def test_failed_deberta_export_falls_back_to_torch_with_a_clear_message(deberta_model_dir, onnx_params, parity_file,
                                                                         tmp_path, monkeypatch, capsys):
    def unsupported(*args, **kwargs):
        raise torch.onnx.errors.UnsupportedOperatorError("aten::bucket_pos", 17, None)

    monkeypatch.setattr(torch.onnx, "export", unsupported)
    request = ArchiveRequest(model_dir=deberta_model_dir, version="1", parity_file=parity_file,
                             model_store=tmp_path / "store")
    mar = build_archive(request, onnx_params)

    err = capsys.readouterr().err
    assert "ONNX export of this deberta-v2 model failed (UnsupportedOperatorError: " in err
    assert "aten::bucket_pos" in err and f"built without {ONNX_FILE} and serves with runtime torch" in err
    with zipfile.ZipFile(mar) as archive:
        names = set(archive.namelist())
        config = yaml.safe_load(archive.read("model-config.yaml"))
    assert ONNX_FILE not in names and "onnx_parity.json" not in names
    assert {"model.safetensors", "model_config.json", "tokenizer.json"} <= names
    assert config["handler"]["serve"]["runtime"] == "torch"
