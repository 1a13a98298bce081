"""DVC on a real S3 server: `dvc repro` twice (second a no-op), push to SeaweedFS, wipe the cache
and the outputs, pull back byte-identical.

Runs in a temporary git repository holding a copy of the project's pipeline files
(tests/dvc_helpers.py), so the real workspace, its DVC cache and data are never touched.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from pipeline.config import PROJECT_ROOT
from pipeline.services import free_port
from pipeline.services.s3 import client_env, start_s3_server
from tests.dvc_helpers import DVC, make_dvc_repo
from tests.dvc_helpers import run as _run

pytestmark = pytest.mark.integration

NUM_SAMPLES = 300  # enough rows for every intent in every split; keeps generate + prepare to seconds


@pytest.fixture
def dvc_repo(tmp_path) -> tuple[Path, dict[str, str]]:
    repo = tmp_path / "repo"
    return repo, make_dvc_repo(repo, lambda params: params["generate"].update(num_samples=NUM_SAMPLES))


def _digests(repo: Path, paths: list[str]) -> dict[str, str]:
    return {p: hashlib.sha256((repo / p).read_bytes()).hexdigest() for p in paths}


def test_repro_is_a_noop_the_second_time_and_push_pull_round_trips(dvc_repo, tmp_path):
    repo, env = dvc_repo
    dvc = DVC

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
