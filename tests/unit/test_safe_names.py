"""Versions and archive names become file names, URL path parts and a response header: anything
but letters, digits, '.', '_' and '-' (and '.'/'..' themselves) is refused, with the reason,
before any path is built."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT, check_safe_name
from pipeline.deploy.archive import ArchiveError, ArchiveRequest
from pipeline.deploy.rollout import mar_manifest

UNSAFE = ["..", ".", "../v2", "a/b", "1;rm -rf x", "$(touch x)", "v1\r\nX-Injected: 1", "v 1", "", "ü"]
SAFE = ["1", "local-1a2b3c4d", "2.0.1_rc-3", "intent_classifier_v2"]


def load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("value", SAFE)
def test_safe_names_pass(value):
    assert check_safe_name(value, "version") == value


@pytest.mark.parametrize("value", UNSAFE)
def test_unsafe_names_are_refused_with_the_reason(value):
    with pytest.raises(ValueError, match="may only hold letters, digits"):
        check_safe_name(value, "version")


@pytest.mark.parametrize(("field", "named"), [("version", "archive version"), ("mar_name", "archive name")])
@pytest.mark.parametrize("value", ["../outside", "a/b", ".."])
def test_archive_request_refuses_unsafe_version_or_name_before_any_path(tmp_path, field, named, value):
    store = tmp_path / "store"
    with pytest.raises(ArchiveError, match=named):
        ArchiveRequest(**{"model_dir": tmp_path, "version": "1", "model_store": store, field: value})
    assert not store.exists()


@pytest.mark.parametrize("flag", ["--version", "--mar-name"])
def test_archive_script_refuses_unsafe_values_with_exit_2(flag, capsys):
    argv = ["--model", "models/x", "--version", "1", flag, "../x"]
    with pytest.raises(SystemExit) as exit_info:
        load_script("archive_model").main(argv)
    assert exit_info.value.code == 2
    assert "may only hold letters" in capsys.readouterr().err


def test_promote_refuses_an_unsafe_version_with_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        load_script("register_model").main(["promote", "--version", "1/../2"])
    assert exit_info.value.code == 2
    assert "may only hold letters" in capsys.readouterr().err


@pytest.mark.parametrize(("name", "version"), [("intent_classifier", "../2"), ("../intent_classifier", "2")])
def test_archive_manifest_with_unsafe_version_or_name_is_refused(tmp_path, name, version):
    mar = tmp_path / "m.mar"
    with zipfile.ZipFile(mar, "w") as archive:
        archive.writestr("MAR-INF/MANIFEST.json", json.dumps({"model": {"modelName": name, "modelVersion": version}}))
    with pytest.raises(ValueError, match=f"{Path(mar).name}: model (name|version)"):
        mar_manifest(mar)
