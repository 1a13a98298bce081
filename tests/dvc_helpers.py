"""A temporary git repository holding a copy of the project's pipeline files, for DVC tests: the
real workspace, its DVC cache, data and models are never touched."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT

COPIED = ["dvc.yaml", "params.yaml", ".gitignore", ".dvcignore", ".dvc/config", "pipeline", "model_src", "scripts",
          "eval_sets"]
DVC = str(Path(sys.executable).parent / "dvc")


def run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout + proc.stderr


def make_dvc_repo(repo: Path, edit_params: Callable[[dict], None]) -> dict[str, str]:
    """Copy the pipeline into repo, let edit_params shrink params.yaml, commit; returns the environment."""
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
    edit_params(params)
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONPATH": str(repo),  # the copy's `pipeline`, not the editable install of the workspace
        "DVC_NO_ANALYTICS": "1",
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
    }  # fmt: skip
    run(["git", "init", "-q"], repo, env)
    run(["git", "add", "-A"], repo, env)
    run(["git", "commit", "-q", "-m", "copy"], repo, env)
    return env
