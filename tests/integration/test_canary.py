"""Canary rollouts on real TorchServe + nginx (loopback, free ports), tiny models.

One TorchServe and one proxy for the module; each test registers its own new version next to
whatever serves at that moment:
- the weighted split (25 % over 1,000 requests) lands within +-5 points;
- a bad version (labels shuffled: probe agreement collapses) is rolled back automatically and a
  client loop running through the whole rollout sees no failed request;
- a good version (same weights) is promoted, the old one retired, again without a failed request;
- a version that answers 5xx for long inputs is rolled back early from the live 5xx rate.
Client counts are printed (run with -s) and attached as junit properties.
"""

from __future__ import annotations

import collections
import copy
import functools
import json
import shutil
import threading
import time
from pathlib import Path

import pytest
import requests

from pipeline.deploy.rollout import GateCheck, Rollout, StateStore
from pipeline.services.nginx import NginxProxy, Routing, read_access_log
from tests.canary_helpers import ClientLoop, registered_versions, report

pytestmark = pytest.mark.integration
MODEL = "intent_classifier"
NO_REGISTRY = GateCheck.forced("integration test: tiny models, no MLflow registry")
NO_REGISTRY_CLI = ["--no-registry", "--force", NO_REGISTRY.forced_reason]


@pytest.fixture(scope="module")
def canary_params(params, tmp_path_factory) -> dict:
    """Short holds and thresholds a tiny untrained model can meet; outputs under tmp."""
    root = tmp_path_factory.mktemp("canary_out")
    p = copy.deepcopy(params)
    p["serve"]["cache_enabled"] = False  # no Redis in this module: every answer comes from the model
    p["monitor"]["prediction_log"]["enabled"] = False
    p["rollout"].update(
        steps=[25, 100],
        hold_seconds=3,
        check_interval_seconds=1,
        drain_seconds=1,
        warmup_requests=3,
        state_dir=str(root / "rollout_state"),
        log=str(root / "rollout_log.jsonl"),
    )
    p["rollout"]["probe"].update(max_rows=40, concurrency=2)
    # an untrained model has no useful accuracy: judge agreement with the stable version
    p["rollout"]["thresholds"].update(max_p95_ms=None, min_accuracy=None, min_agreement=0.9)
    return p


@pytest.fixture(scope="module")
def model_dirs(tiny_mar_store, tmp_path_factory) -> dict[str, Path]:
    """The shared tiny model (tests/integration/conftest.py) and two broken variants of it."""
    root = tmp_path_factory.mktemp("canary_models")
    good = tiny_mar_store[1]
    # labels rotated by one: every prediction names another intent than the stable version's
    shuffled = Path(shutil.copytree(good, root / "shuffled"))
    config = json.loads((shuffled / "model_config.json").read_text())
    config["intents"] = config["intents"][1:] + config["intents"][:1]
    (shuffled / "model_config.json").write_text(json.dumps(config))
    # truncation beyond the encoder's 512 positions: long inputs crash the forward pass (503)
    crashing = Path(shutil.copytree(good, root / "crashing"))
    config = json.loads((crashing / "model_config.json").read_text())
    config["max_length"] = 600
    (crashing / "model_config.json").write_text(json.dumps(config))
    return {"good": good, "shuffled": shuffled, "crashing": crashing}


def build_mar(model_dir: Path, version: str, store: Path, params: dict) -> Path:
    """An archive of `version` in the module TorchServe's model store (named apart from the shared ones)."""
    from pipeline.deploy.archive import ArchiveRequest, build_archive

    request = ArchiveRequest(model_dir=model_dir, version=version, mar_name=f"{MODEL}_canary_v{version}", model_store=store)
    return build_archive(request, params)


def test_weight_25_sends_a_quarter_of_1000_requests_to_the_new_version(canary_stack, record_property):
    ts, proxy, store = canary_stack
    stable = ts.default_version(MODEL)
    assert ts.register(f"{MODEL}_v2.mar", initial_workers=1).status_code == 200  # version 2 of the shared store
    ts.ensure_default(MODEL, stable)
    try:
        proxy.set_routing(Routing(stable, "2", 25))
        started = time.time()
        headers = ts.headers("inference")
        answered: collections.Counter = collections.Counter()
        lock = threading.Lock()

        def send(n: int) -> None:
            session = requests.Session()
            for i in range(n):
                response = session.post(f"{proxy.url}/predictions/{MODEL}", json={"text": f"split {i}"}, headers=headers, timeout=30)
                assert response.status_code == 200, response.text
                assert response.json()["model_version"] == response.headers["X-Model-Version"]
                with lock:
                    answered[response.headers["X-Model-Version"]] += 1

        threads = [threading.Thread(target=send, args=(250,)) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        share = 100.0 * answered["2"] / sum(answered.values())
        print(f"\n[split] 1000 requests at weight 25 %: {dict(answered)} -> {share:.1f} % to the new version")
        record_property("split_share_percent", round(share, 2))
        assert sum(answered.values()) == 1000
        assert 20.0 <= share <= 30.0
        # the proxy's own log (what the rollout judges) counts the same split
        logged = collections.Counter(r["version"] for r in read_access_log(proxy.access_log, since=started))
        assert logged == answered
    finally:
        proxy.set_routing(Routing(stable))
        ts.unregister(MODEL, "2")


def test_bad_version_is_rolled_back_and_no_request_fails(canary_stack, canary_params, model_dirs, record_property):
    ts, proxy, store = canary_stack
    stable = ts.default_version(MODEL)
    mar = build_mar(model_dirs["shuffled"], "3", store, canary_params)
    with ClientLoop(f"{proxy.url}/predictions/{MODEL}", ts.client(retries=0)) as client:
        state = Rollout(canary_params, ts, proxy, gate=NO_REGISTRY).start(mar)
        time.sleep(0.5)  # requests after the rollback still succeed
    report(record_property, "rollback_client", client)

    assert state.status == "rolled_back"
    assert "agreement" in state.reason
    assert client.failures == []
    assert "3" in client.versions_seen  # the bad version did take live traffic before it was judged
    assert client.versions_seen[-1] == stable
    assert "3" not in registered_versions(ts)
    assert ts.default_version(MODEL) == stable
    decisions = [r for r in Rollout(canary_params, ts, proxy, gate=NO_REGISTRY).log.read() if r["canary"] == "3"]
    step = next(r for r in decisions if r["event"] == "step")
    assert step["decision"] == "rollback" and step["probe"]["agreement"] < 0.9
    assert step["live"]["3"]["requests"] > 0 and step["torchserve"]["3"]["requests"] > 0
    assert decisions[-1]["event"] == "rolled_back"


def test_good_version_is_promoted_and_no_request_fails(canary_stack, canary_params, model_dirs, record_property):
    ts, proxy, store = canary_stack
    stable = ts.default_version(MODEL)
    mar = build_mar(model_dirs["good"], "4", store, canary_params)
    moved = []

    def move_alias(version: str, previous: str) -> str:
        moved.append((version, previous))
        return f"champion -> {version}"

    with ClientLoop(f"{proxy.url}/predictions/{MODEL}", ts.client(retries=0)) as client:
        state = Rollout(canary_params, ts, proxy, gate=NO_REGISTRY, move_alias=move_alias).start(mar)
        time.sleep(0.5)
    report(record_property, "promotion_client", client)

    assert state.status == "promoted"
    assert client.failures == []
    assert client.versions_seen[-1] == "4"
    assert ts.default_version(MODEL) == "4"
    assert registered_versions(ts) == {"4"}  # the old version was retired after draining
    assert moved == [("4", stable)]
    events = [r for r in Rollout(canary_params, ts, proxy, gate=NO_REGISTRY).log.read() if r["canary"] == "4"]
    steps = [r for r in events if r["event"] == "step"]
    assert [s["weight"] for s in steps] == [25, 100]
    assert [s["decision"] for s in steps] == ["continue", "promote"]
    assert steps[0]["probe"]["agreement"] == 1.0
    assert events[-1]["event"] == "promoted" and events[-1]["note"] == "champion -> 4"
    assert StateStore(Path(canary_params["rollout"]["state_dir"]), MODEL).load().status == "promoted"


def test_version_answering_5xx_is_rolled_back_early_from_live_traffic(canary_stack, canary_params, model_dirs, record_property):
    ts, proxy, store = canary_stack
    stable = ts.default_version(MODEL)
    mar = build_mar(model_dirs["crashing"], "5", store, canary_params)
    params = copy.deepcopy(canary_params)
    params["rollout"].update(hold_seconds=20, check_interval_seconds=1)
    params["rollout"]["thresholds"]["min_requests"] = 10
    with ClientLoop(f"{proxy.url}/predictions/{MODEL}", ts.client(retries=0), long_every=4) as client:
        state = Rollout(params, ts, proxy, gate=NO_REGISTRY).start(mar)
        time.sleep(0.5)
    report(record_property, "crashing_client", client)

    assert state.status == "rolled_back"
    assert "live 5xx rate" in state.reason
    assert client.failures and all(version == "5" for version, _ in client.failures)  # only the bad version failed
    assert client.versions_seen[-1] == stable
    assert "5" not in registered_versions(ts)
    early = [r for r in Rollout(params, ts, proxy, gate=NO_REGISTRY).log.read() if r["canary"] == "5" and r.get("early")]
    assert early and early[0]["live"]["5"]["5xx"] > 0


def test_killed_rollout_command_resumes_or_aborts_cleanly(canary_stack, canary_params, model_dirs, tmp_path):
    """The real CLI: killed in the middle of a step, then rerun with --abort (the resume path is
    the same entry point; the unit tests cover resuming to the end)."""
    import os
    import signal
    import subprocess
    import sys

    import yaml

    from pipeline.config import PROJECT_ROOT

    ts, proxy, store = canary_stack
    ts.save_state()  # what `make serve` leaves for other commands
    stable = ts.default_version(MODEL)
    mar = build_mar(model_dirs["good"], "6", store, canary_params)
    params = copy.deepcopy(canary_params)
    params["rollout"]["hold_seconds"] = 120
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params))
    cli = [sys.executable, str(PROJECT_ROOT / "scripts" / "rollout.py"), "--params", str(params_file),
           "--ts-run-dir", str(ts.run_dir), "--proxy-prefix", str(proxy.prefix)]
    store_state = StateStore(Path(params["rollout"]["state_dir"]), MODEL)

    command = subprocess.Popen([*cli, "canary", "--mar", str(mar), *NO_REGISTRY_CLI], start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = store_state.load()
            if state is not None and state.canary == "6" and state.status == "canary" and proxy.status()["weight"] == 25:
                break
            time.sleep(0.5)
        else:
            pytest.fail("the rollout command never reached its first canary step")
        os.killpg(command.pid, signal.SIGKILL)  # no chance to clean up: only the saved state survives
        command.wait(timeout=30)
    finally:
        if command.poll() is None:
            os.killpg(command.pid, signal.SIGKILL)

    assert store_state.load().status == "canary" and "6" in registered_versions(ts)
    status = subprocess.run([*cli, "status"], capture_output=True, text=True, timeout=60)
    assert status.returncode == 0 and json.loads(status.stdout)["state"]["canary"] == "6"
    # a different archive may not start while v6 is in canary
    other = build_mar(model_dirs["good"], "7", store, canary_params)
    refused = subprocess.run([*cli, "canary", "--mar", str(other)], capture_output=True, text=True, timeout=60)
    assert refused.returncode == 3 and "in progress" in refused.stderr

    aborted = subprocess.run([*cli, "canary", "--abort"], capture_output=True, text=True, timeout=120)
    assert aborted.returncode == 1, aborted.stderr
    assert store_state.load().status == "aborted"
    assert "6" not in registered_versions(ts) and ts.default_version(MODEL) == stable
    assert proxy.status()["weight"] == 0 and proxy.status()["stable"] == stable


def test_sigterm_at_each_step_puts_traffic_back_on_stable_and_a_rerun_promotes(
        canary_stack, canary_params, model_dirs, tmp_path, record_property):
    """The real CLI, SIGTERMed in the hold of each step: weight 0 before it exits, the state says
    where it stopped, a rerun resumes there; a client loop throughout sees no failed request."""
    import signal
    import subprocess
    import sys

    import yaml

    from pipeline.config import PROJECT_ROOT
    from pipeline.services import wait_until

    ts, proxy, store = canary_stack
    ts.save_state()
    stable = ts.default_version(MODEL)
    mar = build_mar(model_dirs["good"], "8", store, canary_params)
    params = copy.deepcopy(canary_params)
    params["rollout"]["hold_seconds"] = 8  # long enough to be caught in each step's hold
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(params))
    canary = [sys.executable, str(PROJECT_ROOT / "scripts" / "rollout.py"), "--params", str(params_file),
              "--ts-run-dir", str(ts.run_dir), "--proxy-prefix", str(proxy.prefix),
              "canary", "--mar", str(mar), *NO_REGISTRY_CLI]
    saved = StateStore(Path(params["rollout"]["state_dir"]), MODEL)

    def in_hold(step: int, weight: float) -> bool:
        state = saved.load()
        return (state is not None and state.canary == "8" and state.status == "canary" and state.step == step
                and proxy.status()["weight"] == weight)

    with ClientLoop(f"{proxy.url}/predictions/{MODEL}", ts.client(retries=0)) as client:
        for step, weight in enumerate(params["rollout"]["steps"]):
            command = subprocess.Popen(canary, start_new_session=True, stderr=subprocess.PIPE, text=True)
            try:
                wait_until(functools.partial(in_hold, step, weight), timeout=180, interval=0.2, what=f"step {step} ({weight} %)")
                command.send_signal(signal.SIGTERM)
                assert command.wait(timeout=60) == 128 + signal.SIGTERM, command.stderr.read()
            finally:
                if command.poll() is None:
                    command.kill()
            assert proxy.status()["weight"] == 0 and proxy.status()["stable"] == stable
            state = saved.load()
            assert (state.status, state.step) == ("canary", step) and "SIGTERM" in state.reason
        finished = subprocess.run([*canary, "--hold-seconds", "2"], capture_output=True, text=True, timeout=300)
        time.sleep(0.5)
    report(record_property, "sigterm_client", client)

    assert finished.returncode == 0, finished.stderr
    assert client.failures == []
    assert ts.default_version(MODEL) == "8" and client.versions_seen[-1] == "8"
    interrupted = [r for r in Rollout(params, ts, proxy, gate=NO_REGISTRY).log.read() if r["canary"] == "8" and r["event"] == "interrupted"]
    assert [(r["step"], r["weight"]) for r in interrupted] == [(0, 0), (1, 0)]


def test_exception_at_each_step_puts_traffic_back_on_stable_and_a_rerun_promotes(
        canary_stack, canary_params, model_dirs, record_property):
    """An exception injected in the hold of each step, in process: same guarantees as SIGTERM."""
    ts, proxy, store = canary_stack
    proxy = NginxProxy.attach(proxy.prefix)  # the config generation a rollout CLI may have moved on
    stable = ts.default_version(MODEL)
    mar = build_mar(model_dirs["good"], "9", store, canary_params)
    saved = StateStore(Path(canary_params["rollout"]["state_dir"]), MODEL)

    def crash_at(weight: float):
        def sleep(seconds: float) -> None:
            if proxy.status()["weight"] == weight:
                raise RuntimeError(f"injected at {weight} %")
            time.sleep(seconds)

        return sleep

    with ClientLoop(f"{proxy.url}/predictions/{MODEL}", ts.client(retries=0)) as client:
        for step, weight in enumerate(canary_params["rollout"]["steps"]):
            with pytest.raises(RuntimeError, match="injected"):
                Rollout(canary_params, ts, proxy, gate=NO_REGISTRY, sleep=crash_at(weight)).start(mar)
            assert proxy.status()["weight"] == 0 and proxy.status()["stable"] == stable
            assert (saved.load().status, saved.load().step) == ("canary", step)
            assert "9" in registered_versions(ts) and ts.default_version(MODEL) == stable
        state = Rollout(canary_params, ts, proxy, gate=NO_REGISTRY).start(mar)
        time.sleep(0.5)
    report(record_property, "exception_client", client)

    assert state.status == "promoted"
    assert client.failures == []
    assert ts.default_version(MODEL) == "9" and client.versions_seen[-1] == "9"
