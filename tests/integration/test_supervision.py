"""TorchServe, its token renewer, Redis and nginx under supervisord (real processes, loopback, free
ports, tiny model): a JVM killed with SIGKILL comes back by itself and serves the same default
version; the other programs killed with SIGKILL are started again."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
import requests

from pipeline.services import free_port, supervision, wait_until
from pipeline.services.torchserve import TorchServe

pytestmark = [pytest.mark.integration, pytest.mark.slow]
MODEL = "intent_classifier"


def java_pids(run_dir: Path) -> set[int]:
    """The TorchServe JVM(s) started in run_dir (the launcher runs TorchServe with cwd=run_dir)."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            if Path(os.readlink(entry / "cwd")) == run_dir.resolve() and b"org.pytorch.serve.ModelServer" in cmdline:
                pids.add(int(entry.name))
        except OSError:
            continue
    return pids


def program_pid(stack: supervision.SupervisedStack, name: str) -> int:
    return int(supervision.supervisorctl(stack, "pid", name).stdout.strip() or 0)


@pytest.fixture
def supervised(tiny_mar_store, params, tmp_path):
    store, _ = tiny_mar_store
    stack = supervision.SupervisedStack.from_params(
        params, run_dir=tmp_path / "supervise", model_store=store, inference_port=free_port(),
        management_port=free_port(), metrics_port=free_port(), grpc_ports=(free_port(), free_port()),
        redis_port=free_port(), proxy_port=free_port())
    try:
        supervision.start(stack, stable_version="1")
        yield stack
    finally:
        if supervision.stop(stack):
            print("\n--- supervisord log ---\n" + (stack.run_dir / "logs" / "supervisord.log").read_text()[-3000:])


def predict(ts: TorchServe) -> requests.Response:
    return requests.post(ts.inference_url(f"predictions/{MODEL}"), json={"text": "write a haiku about rain"},
                         headers=ts.headers("inference"), timeout=30)


def test_killed_jvm_comes_back_and_serves_the_same_default_version(supervised):
    stack = supervised
    ts = TorchServe.attach(stack.torchserve_dir)
    assert ts.register(f"{MODEL}_v2.mar", initial_workers=1).status_code == 200
    ts.ensure_default(MODEL, "2")  # no longer the version of the first start: the restart must remember it
    assert predict(ts).json()["model_version"] == "2"
    killed = java_pids(stack.torchserve_dir)
    assert len(killed) == 1

    killed_at = time.monotonic()
    os.kill(killed.pop(), signal.SIGKILL)  # what -XX:+ExitOnOutOfMemoryError or a crash looks like from outside

    def serving_again() -> bool:
        try:
            return predict(TorchServe.attach(stack.torchserve_dir)).status_code == 200
        except (requests.RequestException, FileNotFoundError, KeyError):
            return False

    wait_until(serving_again, timeout=300, interval=1, what="TorchServe to be restarted by supervisord")
    print(f"\n[supervision] JVM SIGKILLed -> answering again after {time.monotonic() - killed_at:.1f} s")
    ts = TorchServe.attach(stack.torchserve_dir)
    assert ts.default_version(MODEL) == "2"
    assert predict(ts).json()["model_version"] == "2"
    assert {d["modelVersion"] for d in ts.describe(MODEL)} == {"1", "2"}
    assert "exited with code" in (stack.run_dir / "logs" / "torchserve.log").read_text()


@pytest.mark.parametrize("name", ["redis", "nginx", "token-renewer"])
def test_killed_redis_nginx_and_token_renewer_are_restarted(supervised, name):
    stack = supervised
    before = program_pid(stack, name)
    os.kill(before, signal.SIGKILL)
    wait_until(lambda: program_pid(stack, name) not in (0, before) and supervision.all_running(stack),
               timeout=60, interval=0.5, what=f"{name} restarted")
