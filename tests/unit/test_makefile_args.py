"""Operator text given to make (a labelling rule, names, versions) reaches the scripts verbatim:
neither make nor the shell runs `$(...)`, backquotes or `;` inside it.

The real Makefile runs with PYTHON set to a stub that records the argv each script would get
(`-o install`: nothing is installed), so no training or archiving happens.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make not installed")


def run_make(tmp_path: Path, *targets: str, **variables: str) -> list[list[str]]:
    """argv of every script the targets ran, in order."""
    stub = tmp_path / "python"
    stub.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        "with open(os.environ['ARGV_OUT'], 'a') as fh:\n    fh.write(json.dumps(sys.argv[1:]) + '\\n')\n"
    )
    stub.chmod(0o755)
    out = tmp_path / "argv.jsonl"
    result = subprocess.run(
        ["make", "-s", "-C", str(PROJECT_ROOT), "-o", "install", *targets, f"PYTHON={stub}",
         *(f"{name}={value}" for name, value in variables.items())],
        env={**os.environ, "ARGV_OUT": str(out)}, capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in out.read_text().splitlines()]


def after(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_add_intent_definition_is_neither_run_nor_reparsed(tmp_path):
    marker = tmp_path / "ran"
    definitions = [f"$(touch {marker})", f"$(shell touch {marker}) `touch {marker}`", "a: b\n- c \"quoted\" 'single'"]
    for definition in definitions:
        (argv,) = run_make(tmp_path, "add-intent", NAME="email_writing", DATA="rows.csv", DEFINITION=definition)
        assert after(argv, "--definition") == definition
        assert after(argv, "--name") == "email_writing" and after(argv, "--data") == "rows.csv"
        (tmp_path / "argv.jsonl").unlink()
    assert not marker.exists()


def test_versions_and_archive_names_reach_the_scripts_verbatim(tmp_path):
    marker = tmp_path / "ran"
    version, mar_name = f"1;touch {marker}", f"$(shell touch {marker})"
    archive, promote = run_make(tmp_path, "archive", "promote", MODEL="models/x", VERSION=version, MAR_NAME=mar_name)
    assert after(archive, "--version") == version and after(archive, "--mar-name") == mar_name
    assert after(promote, "--version") == version
    assert not marker.exists()


def test_predict_paths_reach_the_script_verbatim(tmp_path):
    marker = tmp_path / "ran"
    source, output = f"in $(shell touch {marker}).jsonl", f"out;touch {marker}.jsonl"
    (argv,) = run_make(tmp_path, "predict", INPUT=source, OUTPUT=output, BATCH_SIZE="8")
    assert after(argv, "--input") == source and after(argv, "--output") == output
    assert after(argv, "--batch-size") == "8"
    assert not marker.exists()
