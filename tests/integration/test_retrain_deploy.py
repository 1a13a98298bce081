"""`make retrain NEW_DATA=... DEPLOY=1` end to end: the real CLI against real TorchServe + nginx on
loopback, a real (SQLite) MLflow registry, the tiny model as champion (registry v1, served as v1).

- accepted (promotion margin -1: any challenger wins): the challenger is registered, gated in the
  registry, archived into the serving model store, rolled out 25 -> 100 % and promoted (default
  version, champion alias); a client loop through the proxy sees no failed request;
- refused (margin 2: no challenger can win): exit 1, nothing registered in MLflow or TorchServe, no
  archive, the proxy's routing and config generation untouched, no rollout log line.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from tests.canary_helpers import MODEL, ClientLoop, registered_versions, report
from tests.train_helpers import tiny_params

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def tiny_mar_store(tiny_mar_store, tmp_path_factory) -> tuple[Path, Path]:
    """A private model store holding only version 1 of the shared tiny archives: the deployment
    writes intent_classifier_v<N>.mar into the serving store, which must not touch the shared one."""
    shared, model_dir = tiny_mar_store
    store = tmp_path_factory.mktemp("retrain_store")
    shutil.copy(shared / f"{MODEL}.mar", store / f"{MODEL}.mar")
    return store, model_dir


@pytest.fixture(scope="module")
def retrain_params(params, tmp_path_factory, tiny_encoder_dir, tiny_rows, tiny_mar_store) -> dict:
    """Tiny data, a throwaway MLflow registry whose champion (v1) is the served tiny model, short
    canary steps judged on errors only (an untrained champion has no accuracy to keep)."""
    from pipeline.deploy.registry import CHAMPION, register_model

    root = tmp_path_factory.mktemp("retrain_deploy")
    p = tiny_params(params, root, tiny_encoder_dir, tiny_rows)
    p["serve"]["cache_enabled"] = False
    p["monitor"]["prediction_log"]["enabled"] = False
    p["monitor"]["retrain"].update(epochs=1, learning_rate=1e-3, output_dir=str(root / "runs"),
                                   additions_file=str(root / "additions.jsonl"), quarantine_file=str(root / "quarantine.jsonl"))
    p["registry"].update(cache_dir=str(root / "registry_cache"), report_dir=str(root / "promotion"),
                         promotion_log=str(root / "promotion_log.jsonl"), test_file=None)
    p["rollout"].update(steps=[25, 100], hold_seconds=3, check_interval_seconds=1, drain_seconds=1, warmup_requests=3,
                        state_dir=str(root / "rollout_state"), log=str(root / "rollout_log.jsonl"))
    p["rollout"]["probe"].update(max_rows=40, concurrency=2)
    p["rollout"]["thresholds"].update(max_p95_ms=None, min_accuracy=None, max_accuracy_drop=None, min_agreement=None)
    assert register_model(tiny_mar_store[1], p, alias=CHAMPION).version == "1"
    return p


def run_cli(params: dict, canary_stack, tmp_path: Path, rows: list[tuple[str, str]], margin: float) -> subprocess.CompletedProcess:
    ts, proxy, _ = canary_stack
    ts.save_state()  # what `make serve` leaves for other commands
    p = copy.deepcopy(params)
    p["registry"]["promotion_margin"] = margin
    p["registry"]["max_intent_f1_drop"] = 1.0
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(p))
    new_data = tmp_path / "labelled.jsonl"
    new_data.write_text("".join(json.dumps({"text": t, "intent": i}) + "\n" for t, i in rows))
    cli = [sys.executable, str(PROJECT_ROOT / "scripts" / "retrain.py"), "--params", str(params_file),
           "--new-data", str(new_data), "--out-dir", str(tmp_path / "run"), "--no-dvc", "--no-mlflow", "--deploy",
           "--ts-run-dir", str(ts.run_dir), "--proxy-prefix", str(proxy.prefix)]
    result = subprocess.run(cli, capture_output=True, text=True, timeout=900)
    print(f"\n--- retrain --deploy (exit {result.returncode}) ---\n{result.stdout}\n{result.stderr[-3000:]}")
    return result


def registry_versions(params: dict) -> dict[str, list[str]]:
    """version -> its aliases, from the test's MLflow registry."""
    from mlflow import MlflowClient

    from pipeline.modeling.tracking import setup_mlflow

    setup_mlflow(params)
    client = MlflowClient()
    name = params["mlflow"]["registered_model"]
    aliases = client.get_registered_model(name).aliases
    versions = {str(v.version): [] for v in client.search_model_versions(f"name='{name}'")}
    for alias, version in aliases.items():
        versions[str(version)].append(alias)
    return {v: sorted(a) for v, a in versions.items()}


def rollout_log(params: dict) -> list[dict]:
    path = Path(params["rollout"]["log"])
    return [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []


def test_accepted_challenger_is_archived_rolled_out_and_promoted(canary_stack, retrain_params, tmp_path, record_property):
    ts, proxy, store = canary_stack
    stable = ts.default_version(MODEL)
    before = registry_versions(retrain_params)
    rows = [("Write a limerick about a forgetful robot", "creative_writing"),
            ("Port this bash loop to python: for f in *.log; do gzip $f; done", "code_generation"),
            ("what is the boiling point of water at altitude", "question_answering")]
    with ClientLoop(f"{proxy.url}/predictions/{MODEL}", ts.client(retries=0)) as client:
        result = run_cli(retrain_params, canary_stack, tmp_path, rows, margin=-1.0)
    report(record_property, "retrain_deploy_client", client)

    assert result.returncode == 0, result.stderr[-2000:]
    run_report = json.loads((tmp_path / "run" / "retrain_report.json").read_text())
    version = run_report["challenger_version"]
    assert version not in before and run_report["registry_gate"]["accepted"] is True
    assert run_report["deploy"]["status"] == "promoted" and run_report["deploy"]["deployed"] is True
    assert (store / f"{MODEL}_v{version}.mar").is_file()  # archived as `make archive ... VERSION=v` names it
    assert ts.default_version(MODEL) == version and registered_versions(ts) == {version}
    assert proxy.status()["stable"] == version and proxy.status()["weight"] == 0
    after = registry_versions(retrain_params)
    assert "champion" in after[version] and "previous_champion" in after[stable]
    events = [r for r in rollout_log(retrain_params) if r["canary"] == version]
    assert [e["event"] for e in events if e["event"] in ("started", "promoted")] == ["started", "promoted"]
    assert events[0]["gate"] == "gate accepted" and events[0]["stable"] == stable
    assert [s["decision"] for s in events if s["event"] == "step"] == ["continue", "promote"]
    assert client.failures == [] and client.versions_seen[-1] == version


def test_refused_challenger_deploys_nothing(canary_stack, retrain_params, tmp_path, record_property):
    ts, proxy, store = canary_stack
    before = {"default": ts.default_version(MODEL), "versions": registered_versions(ts), "proxy": proxy.status(),
              "store": sorted(p.name for p in store.iterdir()), "registry": registry_versions(retrain_params),
              "rollout_log": len(rollout_log(retrain_params))}
    rows = [("Give me a packing list for a week of winter camping", "task_planning"),
            ("my sourdough never rises, what am I doing wrong", "problem_solving")]
    with ClientLoop(f"{proxy.url}/predictions/{MODEL}", ts.client(retries=0)) as client:
        result = run_cli(retrain_params, canary_stack, tmp_path, rows, margin=2.0)
    report(record_property, "retrain_refused_client", client)

    assert result.returncode == 1, result.stderr[-2000:]
    run_report = json.loads((tmp_path / "run" / "retrain_report.json").read_text())
    assert run_report["challenger_version"] is None and run_report["deploy"]["deployed"] is False
    assert "refused" in run_report["deploy"]["reason"]
    after = {"default": ts.default_version(MODEL), "versions": registered_versions(ts), "proxy": proxy.status(),
             "store": sorted(p.name for p in store.iterdir()), "registry": registry_versions(retrain_params),
             "rollout_log": len(rollout_log(retrain_params))}
    assert after == before  # nothing registered anywhere, no archive, routing and nginx generation untouched
    quarantined = [json.loads(x)["text"] for x in Path(retrain_params["monitor"]["retrain"]["quarantine_file"]).read_text().splitlines()]
    assert quarantined[-2:] == [t for t, _ in rows]
    assert client.failures == [] and set(client.versions_seen) == {before["default"]}
