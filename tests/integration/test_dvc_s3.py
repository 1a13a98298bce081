"""DVC on a real S3 server: `dvc repro` twice (second a no-op), push to SeaweedFS, wipe the cache
and the outputs, pull back byte-identical.

Runs in a temporary git repository holding a copy of the project's pipeline files, so the
real workspace, its DVC cache and data are never touched.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.services import free_port
from pipeline.services.s3 import client_env, start_s3_server

pytestmark = pytest.mark.integration

COPIED = ["dvc.yaml", "params.yaml", ".gitignore", ".dvcignore", ".dvc/config", "pipeline", "model_src", "scripts"]
NUM_SAMPLES = 300  # enough rows for every intent in every split; keeps generate + prepare to seconds


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


@pytest.fixture
def dvc_repo(tmp_path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    for name in COPIED:
        src, dst = PROJECT_ROOT / name, repo / name
        if src.is_dir():
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dst)
    for sub in ("raw", "interim", "processed"):
        (repo / "data" / sub).mkdir(parents=True)
        (repo / "data" / sub / ".gitkeep").touch()
    params = yaml.safe_load((repo / "params.yaml").read_text(encoding="utf-8"))
    params["generate"]["num_samples"] = NUM_SAMPLES
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(repo),  # the copy's `pipeline`, not the editable install of the workspace
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }  # fmt: skip
    _run(["git", "init", "-q"], repo, env)
    _run(["git", "add", "-A"], repo, env)
    _run(["git", "commit", "-q", "-m", "copy"], repo, env)
    return repo, env


def _digests(repo: Path, paths: list[str]) -> dict[str, str]:
    return {p: hashlib.sha256((repo / p).read_bytes()).hexdigest() for p in paths}


def test_repro_is_a_noop_the_second_time_and_push_pull_round_trips(dvc_repo, tmp_path):
    repo, env = dvc_repo
    dvc = str(Path(sys.executable).parent / "dvc")

    first = _run([dvc, "repro", "prepare"], repo, env)  # the data stages; train has its own tests
    assert "Running stage 'prepare'" in first
    outs = ["data/raw/prompts.jsonl"] + [f"data/processed/{n}.jsonl" for n in ("train", "val", "test")]
    outs += ["data/processed/stats.json", "data/interim/rejected.jsonl"]
    assert all((repo / p).is_file() for p in outs)
    assert (
        not (PROJECT_ROOT / "dvc.lock").is_file() or str(repo) not in (PROJECT_ROOT / "dvc.lock").read_text()
    )
    lock = (repo / "dvc.lock").read_text(encoding="utf-8")
    assert str(tmp_path) not in lock and str(PROJECT_ROOT) not in lock  # no machine paths

    second = _run([dvc, "repro", "prepare"], repo, env)
    assert "Running stage" not in second
    assert "up to date" in second.lower()
    before = _digests(repo, outs)

    port = free_port()
    server = start_s3_server(tmp_path / "s3data", tmp_path / "s3.log", port=port)
    try:
        env = {**env, **client_env(port)}
        _run([dvc, "remote", "modify", "--local", "s3store", "endpointurl", server.endpoint_url], repo, env)
        pushed = _run([dvc, "push", "generate", "prepare"], repo, env)
        assert "pushed" in pushed
        shutil.rmtree(repo / ".dvc" / "cache")
        for p in outs:
            (repo / p).unlink()
        _run([dvc, "pull", "generate", "prepare"], repo, env)
        assert _digests(repo, outs) == before
        assert "up to date" in _run([dvc, "status", "prepare"], repo, env).lower()
    finally:
        server.stop()
