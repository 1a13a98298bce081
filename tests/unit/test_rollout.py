"""Rollout decisions and the state machine, on fakes of TorchServe and the proxy (no servers)."""

from __future__ import annotations

import copy
import json
import os
import signal
import zipfile
from pathlib import Path

import pytest
import requests

import pipeline.deploy.rollout as rollout_mod
from pipeline.deploy.rollout import (
    FORCED_TAG,
    GATE_DECISION_TAG,
    GateCheck,
    Rollout,
    RolloutBusy,
    RolloutConfig,
    RolloutError,
    RolloutInterrupted,
    StateStore,
    mar_manifest,
    move_champion_alias,
    signals_raise,
)
from pipeline.deploy.rollout_checks import (
    ProbeResult,
    Thresholds,
    decide,
    live_stats,
    parse_ts_metrics,
    probe_figures,
    ts_deltas,
)
from pipeline.services.nginx import Routing

MODEL = "intent_classifier"

# as TorchServe 0.12 prints it (note the trailing comma inside the braces)
TS_METRICS = """# HELP ts_inference_requests_total Torchserve prometheus counter metric with unit: Count
# TYPE ts_inference_requests_total counter
ts_inference_requests_total{model_name="intent_classifier",model_version="2",hostname="vm",} 46.0
ts_inference_requests_total{model_name="intent_classifier",model_version="1",hostname="vm",} 154.0
ts_inference_requests_total{model_name="other",model_version="1",hostname="vm",} 9.0
# HELP ts_inference_latency_microseconds Torchserve prometheus counter metric with unit: Microseconds
# TYPE ts_inference_latency_microseconds counter
ts_inference_latency_microseconds{model_name="intent_classifier",model_version="2",hostname="vm",} 460000.0
ts_inference_latency_microseconds{model_name="intent_classifier",model_version="1",hostname="vm",} 2308234.0
"""


def stats(requests: int, errors: int = 0, p95: float = 10.0) -> dict:
    return {"requests": requests, "5xx": errors, "5xx_rate": errors / requests if requests else None, "p50_ms": p95, "p95_ms": p95}


# -- measurements and decision -------------------------------------------------------------------
def test_ts_metrics_are_read_per_version_and_turned_into_step_deltas():
    after = parse_ts_metrics(TS_METRICS, MODEL)
    assert after["2"] == {"requests": 46.0, "inference_us": 460000.0}
    assert after["1"]["requests"] == 154.0  # the other model is ignored
    deltas = ts_deltas({"2": {"requests": 36.0, "inference_us": 360000.0}}, after)
    assert deltas["2"] == {"requests": 10, "mean_inference_ms": 10.0, "mean_queue_ms": 0.0}
    assert deltas["1"]["requests"] == 154
    assert "2" not in ts_deltas(after, after)  # no traffic in the step: not reported


def logged(version: str, status: int, seconds: float, route: str = "prediction", upstream: str | None = None) -> dict:
    """One proxy access-log record (nginx template `canary` format)."""
    return {"version": version, "route": route, "status": status, "request_time": seconds,
            "upstream_status": str(status) if upstream is None else upstream}


def test_live_stats_split_access_log_records_by_version():
    records = [logged("1", 200, 0.010)] * 9 + [logged("2", 200, 0.020), logged("2", 503, 0.030)]
    live = live_stats(records)
    assert live["1"]["requests"] == 9 and live["1"]["5xx"] == 0
    assert live["2"]["5xx"] == 1 and live["2"]["5xx_rate"] == 0.5
    assert live["2"]["p95_ms"] == pytest.approx(29.5)


def test_slow_explanations_in_mixed_traffic_do_not_fail_the_live_p95():
    # 40 fast predictions and 8 explanations 30x over the budget, all answered by the canary
    records = [logged("2", 200, 0.010)] * 40 + [logged("2", 200, 3.0, route="explanation")] * 8
    t = Thresholds(max_5xx_rate=0.01, max_p95_ms=100, min_requests=20)
    live = live_stats(records)
    assert live["2"]["requests"] == 48  # explanations are requests of the version
    assert live["2"]["p95_ms"] == pytest.approx(10.0)  # but not prediction latency
    assert decide({"live": live}, "2", t) == []
    failing = live_stats(records + [logged("2", 500, 3.0, route="explanation")])
    assert "live 5xx rate" in decide({"live": failing}, "2", t)[0]  # their errors still count


def test_explanations_shed_with_503_do_not_roll_a_canary_back():
    """The handler answers explanations 503 ("retry") when their budget is spent or another worker
    holds the explaining slot: load shedding, not a failing version. Other 5xx still count."""
    t = Thresholds(max_5xx_rate=0.01, min_requests=20)
    records = [logged("2", 200, 0.010)] * 37 + [logged("2", 503, 0.005, route="explanation")] * 2
    live = live_stats(records)
    assert live["2"]["requests"] == 37 and live["2"]["5xx"] == 0 and live["2"]["explanations_shed"] == 2
    assert decide({"live": live}, "2", t) == []
    for failing in (logged("2", 503, 0.005), logged("2", 500, 0.005, route="explanation")):
        assert "live 5xx rate" in decide({"live": live_stats(records + [failing])}, "2", t)[0]


def test_live_stats_leave_out_requests_the_proxy_answered_itself():
    # over a rate limit (429) or the body size (413) nginx answers without asking any version
    records = [logged("2", 200, 0.010)] * 20 + [logged("2", 429, 0.0, upstream="")] * 30 + [logged("2", 413, 0.0, upstream="")]
    assert live_stats(records)["2"]["requests"] == 20


def test_probe_figures_accuracy_and_agreement():
    labels = ["a", "b", "c", "d"]
    canary = ProbeResult(["a", "b", "x", None], [200, 200, 200, 503], [5, 5, 5, 5], ["2"] * 4)
    stable = ProbeResult(["a", "b", "c", "d"], [200] * 4, [5, 5, 5, 5], ["1"] * 4)
    figures = probe_figures(labels, canary, stable)
    assert figures["canary"]["accuracy"] == 0.5 and figures["stable"]["accuracy"] == 1.0
    assert figures["agreement"] == pytest.approx(2 / 3)  # over rows both answered
    assert figures["canary"]["5xx"] == 1


def test_decide_judges_live_figures_only_with_enough_requests():
    t = Thresholds(max_5xx_rate=0.01, min_requests=20)
    assert decide({"live": {"2": stats(5, errors=5)}}, "2", t) == []  # 5 requests: not judged yet
    reasons = decide({"live": {"2": stats(40, errors=2)}}, "2", t)
    assert len(reasons) == 1 and "live 5xx rate 0.050" in reasons[0]


def test_decide_takes_p95_from_the_probe_when_live_traffic_is_thin():
    probe = {"rows": 4, "canary": {**stats(4, p95=300.0), "accuracy": 1.0}, "stable": {**stats(4), "accuracy": 1.0}, "agreement": 1.0}
    t = Thresholds(max_5xx_rate=None, max_p95_ms=100, min_requests=20)
    assert decide({"live": {"2": stats(3, p95=5.0)}, "probe": probe}, "2", t) == ["probe p95 latency 300.0 ms > 100 ms"]
    assert decide({"live": {"2": stats(50, p95=5.0)}, "probe": probe}, "2", t) == []  # live wins when judged


def test_decide_accuracy_drop_agreement_and_healthy():
    def probe(acc: float, stable_acc: float, agreement: float) -> dict:
        return {"rows": 100, "canary": {**stats(100), "accuracy": acc}, "stable": {**stats(100), "accuracy": stable_acc}, "agreement": agreement}

    t = Thresholds(max_5xx_rate=0.01, min_accuracy=0.8, max_accuracy_drop=0.02, min_agreement=0.9)
    assert decide({"probe": probe(0.92, 0.93, 0.97)}, "2", t) == []
    reasons = decide({"probe": probe(0.70, 0.93, 0.5)}, "2", t)
    assert [r.split(" ")[1] for r in reasons] == ["accuracy", "accuracy", "agreement"]


def test_unknown_threshold_key_is_refused():
    with pytest.raises(ValueError, match="max_p99_ms"):
        Thresholds.from_params({"max_p99_ms": 5})


def test_steps_must_rise_and_end_at_100(params):
    p = copy.deepcopy(params)
    p["rollout"]["steps"] = [5, 50]
    with pytest.raises(ValueError, match="end at 100"):
        RolloutConfig.from_params(p)


# -- archives --------------------------------------------------------------------------------------
def write_mar(path: Path, version: str, name: str = MODEL) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("MAR-INF/MANIFEST.json", json.dumps({"model": {"modelName": name, "modelVersion": version}}))
    return path


def test_mar_manifest_reads_name_and_version_and_names_a_bad_file(tmp_path):
    assert mar_manifest(write_mar(tmp_path / "m.mar", "7")) == (MODEL, "7")
    (tmp_path / "bad.mar").write_text("not a zip")
    with pytest.raises(ValueError, match="bad.mar"):
        mar_manifest(tmp_path / "bad.mar")
    with pytest.raises(FileNotFoundError, match="make archive"):
        mar_manifest(tmp_path / "missing.mar")


# -- state machine on fakes -------------------------------------------------------------------------
class FakeResponse:
    def __init__(self, status_code: int = 200, text: str = "{}"):
        self.status_code, self.text = status_code, text


class FakeTorchServe:
    def __init__(self, store: Path):
        self.model_store = store
        self.versions = {"1"}
        self.default = "1"
        self.calls: list[tuple] = []

    def describe(self, name, version=None):
        return [{"modelVersion": v, "workers": [{"status": "READY"}]} for v in sorted(self.versions)]

    def register(self, mar, initial_workers=1, timeout=0):
        self.calls.append(("register", mar))
        self.versions.add(mar_manifest(self.model_store / mar)[1])
        return FakeResponse()

    def default_version(self, name):
        return self.default

    def ensure_default(self, name, version):
        self.default = version

    def wait_model_ready(self, name, version=None, timeout=0):
        assert version in self.versions

    def unregister(self, name, version):
        self.calls.append(("unregister", version))
        self.versions.discard(version)
        return FakeResponse()

    def inference_url(self, path=""):
        return f"http://ts/{path}"

    def client(self, **options):
        return "client of the fake TorchServe"  # only handed to the fake sender

    def metrics_url(self):
        return "http://127.0.0.1:9/metrics"  # closed port: the rollout logs the gap and goes on


class FakeProxy:
    def __init__(self, tmp: Path):
        self.routings: list[Routing] = []
        self.access_log = tmp / "access.jsonl"
        self.url = "http://proxy"

    def set_routing(self, routing: Routing):
        self.routings.append(routing)

    def status(self):
        return {"weight": self.routings[-1].weight if self.routings else 0}


def fake_sender(canary_intents: str = "same"):
    """Answers like two versions would: the canary agrees with stable unless told otherwise."""

    def send(url, texts, client, concurrency=1):
        wrong = canary_intents == "wrong" and url.endswith("/2")
        intents = ["conversation" if wrong else "question_answering" for _ in texts]
        return ProbeResult(intents, [200] * len(texts), [5.0] * len(texts), [url.rsplit("/", 1)[1]] * len(texts))

    return send


@pytest.fixture
def setup(params, tmp_path):
    p = copy.deepcopy(params)
    p["rollout"].update(
        steps=[25, 100], hold_seconds=2, check_interval_seconds=1, drain_seconds=0,
        state_dir=str(tmp_path / "state"), log=str(tmp_path / "rollout_log.jsonl"),
    )
    p["rollout"]["probe"]["max_rows"] = 5
    p["rollout"]["thresholds"].update(min_accuracy=None, max_p95_ms=None)
    store = tmp_path / "store"
    mar = write_mar(store / "intent_classifier_v2.mar", "2")
    return p, FakeTorchServe(store), FakeProxy(tmp_path), mar


class Interrupt(Exception):
    pass


def make(p, ts, proxy, *, send=None, sleep=None, moved=None, gate=None) -> Rollout:
    def move(version, previous):
        moved.append((version, previous))
        return "moved"

    return Rollout(p, ts, proxy, gate=gate or (lambda version: "gate accepted (fake)"), send=send or fake_sender(),
                   sleep=sleep or (lambda s: None), clock=FakeClock(), move_alias=move if moved is not None else None)


class FakeClock:
    """Each reading is one second later: holds end without real waiting."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def test_good_version_steps_through_and_is_promoted(setup):
    p, ts, proxy, mar = setup
    moved = []
    state = make(p, ts, proxy, moved=moved).start(mar)
    assert state.status == "promoted"
    assert [r.weight for r in proxy.routings] == [25, 100, 0]
    assert proxy.routings[-1] == Routing("2")  # every request to the new version
    assert ts.default == "2" and ts.versions == {"2"}
    assert moved == [("2", "1")]
    events = [r["event"] for r in make(p, ts, proxy).log.read()]
    assert events == ["started", "registered", "weight", "step", "weight", "step", "promoted"]


def test_disagreeing_version_is_rolled_back_and_aliases_untouched(setup):
    p, ts, proxy, mar = setup
    moved = []
    state = make(p, ts, proxy, send=fake_sender("wrong"), moved=moved).start(mar)
    assert state.status == "rolled_back" and "agreement" in state.reason
    assert proxy.routings[-1] == Routing("1")
    assert ts.default == "1" and ts.versions == {"1"}
    assert moved == []
    step = [r for r in make(p, ts, proxy).log.read() if r["event"] == "step"][0]
    assert step["decision"] == "rollback" and step["probe"]["agreement"] == 0.0


def test_interrupted_rollout_resumes_at_its_step(setup):
    p, ts, proxy, mar = setup

    def sleep(seconds):
        if len(proxy.routings) == 2:  # in the hold of the second step
            raise Interrupt

    with pytest.raises(Interrupt):
        make(p, ts, proxy, sleep=sleep).start(mar)
    saved = StateStore(Path(p["rollout"]["state_dir"]), MODEL).load()
    assert (saved.status, saved.step) == ("canary", 1)

    assert proxy.routings[-1] == Routing("1")  # the crash put every request back on the stable version

    state = make(p, ts, proxy).start(mar)
    assert state.status == "promoted"
    assert [c for c in ts.calls if c[0] == "register"] == [("register", "intent_classifier_v2.mar")]  # not again
    assert [r.weight for r in proxy.routings] == [25, 100, 0, 100, 0]  # step 1 re-applied, then promotion
    assert "resumed" in [r["event"] for r in make(p, ts, proxy).log.read()]


def crash_at(proxy, weight: float, exc: BaseException):
    """A sleep that raises `exc` in the hold of the step at `weight` (the first time only)."""
    fired = []

    def sleep(seconds):
        if not fired and proxy.routings and proxy.routings[-1].weight == weight:
            fired.append(exc)
            raise exc

    return sleep


@pytest.mark.parametrize("exc", [RuntimeError("injected"), requests.ConnectionError("management API gone")],
                         ids=["exception", "lost-connection"])
def test_crash_at_each_step_puts_traffic_back_on_stable_and_a_rerun_resumes(setup, exc):
    p, ts, proxy, mar = setup
    store = StateStore(Path(p["rollout"]["state_dir"]), MODEL)
    for step, weight in enumerate([25, 100]):
        with pytest.raises(type(exc)):
            make(p, ts, proxy, sleep=crash_at(proxy, weight, exc)).start(mar)
        assert proxy.routings[-1] == Routing("1")
        saved = store.load()
        assert (saved.status, saved.step) == ("canary", step) and "interrupted" in saved.reason
        assert ts.versions == {"1", "2"} and ts.default == "1"  # still registered: the rerun need not register again
    assert make(p, ts, proxy).start(mar).status == "promoted"
    events = [r for r in make(p, ts, proxy).log.read() if r["event"] == "interrupted"]
    assert [(r["step"], r["weight"]) for r in events] == [(0, 0), (1, 0)]


def test_lost_management_connection_while_registering_leaves_traffic_on_stable(setup):
    p, ts, proxy, mar = setup
    real_register = ts.register

    def unreachable(*args, **kwargs):
        raise requests.ConnectionError("connection refused")

    ts.register = unreachable
    with pytest.raises(requests.ConnectionError):
        make(p, ts, proxy).start(mar)
    assert proxy.routings == [Routing("1")]
    assert StateStore(Path(p["rollout"]["state_dir"]), MODEL).load().status == "registering"
    ts.register = real_register
    assert make(p, ts, proxy).start(mar).status == "promoted"


def test_sigterm_in_a_hold_raises_and_puts_traffic_back_on_stable(setup):
    p, ts, proxy, mar = setup

    def sleep(seconds):
        if proxy.routings[-1].weight == 100:
            os.kill(os.getpid(), signal.SIGTERM)

    with signals_raise(), pytest.raises(RolloutInterrupted, match="SIGTERM"):
        make(p, ts, proxy, sleep=sleep).start(mar)
    assert proxy.routings[-1] == Routing("1")
    assert StateStore(Path(p["rollout"]["state_dir"]), MODEL).load().step == 1


def test_crash_while_promoting_keeps_the_new_routing_and_a_rerun_finishes(setup):
    p, ts, proxy, mar = setup

    def sleep(seconds):
        if proxy.routings[-1] == Routing("2"):  # the drain of the promotion
            raise RuntimeError("injected")

    with pytest.raises(RuntimeError):
        make(p, ts, proxy, sleep=sleep).start(mar)
    assert proxy.routings[-1] == Routing("2")  # every step passed: the new version is the safe one
    assert StateStore(Path(p["rollout"]["state_dir"]), MODEL).load().status == "promoting"
    assert make(p, ts, proxy).start(mar).status == "promoted" and ts.versions == {"2"}


def test_interrupted_rollout_can_be_aborted_cleanly(setup):
    p, ts, proxy, mar = setup

    def sleep(seconds):
        raise Interrupt

    with pytest.raises(Interrupt):
        make(p, ts, proxy, sleep=sleep).start(mar)
    state = make(p, ts, proxy).rollback_now(abort=True)
    assert state.status == "aborted" and ts.versions == {"1"} and proxy.routings[-1] == Routing("1")
    with pytest.raises(RolloutError, match="no rollout"):
        make(p, ts, proxy).rollback_now()


def test_another_archive_cannot_start_while_one_is_in_canary(setup):
    p, ts, proxy, mar = setup

    def sleep(seconds):
        raise Interrupt

    with pytest.raises(Interrupt):
        make(p, ts, proxy, sleep=sleep).start(mar)
    other = write_mar(ts.model_store / "intent_classifier_v3.mar", "3")
    routings = list(proxy.routings)
    with pytest.raises(RolloutError, match="v2 is in progress"):
        make(p, ts, proxy).start(other)
    assert proxy.routings == routings  # a refusal moves nothing


def test_archive_outside_the_model_store_or_already_serving_is_refused(setup, tmp_path):
    p, ts, proxy, mar = setup
    with pytest.raises(RolloutError, match="model store"):
        make(p, ts, proxy).start(write_mar(tmp_path / "elsewhere" / "intent_classifier_v2.mar", "2"))
    with pytest.raises(RolloutError, match="already the serving version"):
        make(p, ts, proxy).start(write_mar(ts.model_store / "intent_classifier_v1.mar", "1"))


def test_a_second_command_is_refused_while_one_holds_the_lock(setup):
    p, ts, proxy, mar = setup
    holder = StateStore(Path(p["rollout"]["state_dir"]), MODEL)
    holder.lock()
    try:
        with pytest.raises(RolloutBusy, match="another rollout command"):
            make(p, ts, proxy).start(mar)
    finally:
        holder.unlock()


def test_status_reports_state_routing_versions_and_last_decisions(setup):
    p, ts, proxy, mar = setup
    make(p, ts, proxy).start(mar)
    status = make(p, ts, proxy).status()
    assert status["state"]["status"] == "promoted"
    assert status["versions"] == {"2": {"workers": ["READY"], "default": True}}
    assert status["last_decisions"][-1]["event"] == "promoted"


# -- the promotion gate is mandatory ------------------------------------------------------------------
@pytest.mark.parametrize("decision", ["refused", None, "accepted (dry run)"])
def test_a_version_the_gate_did_not_accept_is_not_rolled_out(setup, monkeypatch, decision):
    p, ts, proxy, mar = setup
    monkeypatch.setattr(rollout_mod, "gate_decision", lambda params, version: decision)
    with pytest.raises(RolloutError, match="not 'accepted'"):
        make(p, ts, proxy, gate=GateCheck(p)).start(mar)
    assert ts.calls == [] and proxy.routings == []  # nothing registered, no traffic moved
    assert StateStore(Path(p["rollout"]["state_dir"]), MODEL).load() is None


def test_an_unregistered_version_is_not_rolled_out(setup, monkeypatch):
    """`make canary` of an archive built from a model dir: its version is not in the registry."""
    p, ts, proxy, mar = setup

    def not_in_registry(params, version):
        raise RolloutError(f"version {version} is not in the MLflow registry")

    monkeypatch.setattr(rollout_mod, "gate_decision", not_in_registry)
    with pytest.raises(RolloutError, match="not in the MLflow registry"):
        make(p, ts, proxy, gate=GateCheck(p)).start(mar)
    assert ts.calls == [] and proxy.routings == []


def test_force_with_a_reason_is_the_only_way_round_and_is_logged(setup, monkeypatch):
    p, ts, proxy, mar = setup
    monkeypatch.setattr(rollout_mod, "gate_decision", lambda params, version: "refused")
    with pytest.raises(ValueError, match="reason"):
        GateCheck.forced("  ")
    state = make(p, ts, proxy, gate=GateCheck.forced("hotfix for incident 42")).start(mar)
    assert state.status == "promoted"
    started = next(r for r in make(p, ts, proxy).log.read() if r["event"] == "started")
    assert started["gate"] == "gate FORCED: hotfix for incident 42"


def test_operator_promotion_checks_the_gate_too(setup, monkeypatch):
    p, ts, proxy, mar = setup
    with pytest.raises(Interrupt):
        make(p, ts, proxy, sleep=crash_at(proxy, 25, Interrupt())).start(mar)
    monkeypatch.setattr(rollout_mod, "gate_decision", lambda params, version: "refused")
    with pytest.raises(RolloutError, match="not 'accepted'"):
        make(p, ts, proxy, gate=GateCheck(p)).promote_now()
    assert StateStore(Path(p["rollout"]["state_dir"]), MODEL).load().status == "canary"


def test_champion_alias_is_not_moved_for_a_refused_version(params, monkeypatch):
    monkeypatch.setattr(rollout_mod, "gate_decision", lambda params, version: "refused")
    with pytest.raises(RolloutError, match="'refused'"):
        move_champion_alias(params)("2", "1")


def test_rollout_cli_refuses_no_registry_without_force(params, capsys):
    from scripts.rollout import main

    with pytest.raises(SystemExit) as exit_info:
        main(["canary", "--mar", "model_store/x.mar", "--no-registry"])
    assert exit_info.value.code == 2 and "--force REASON" in capsys.readouterr().err


@pytest.mark.slow  # creating the MLflow SQLite schema takes ~20 s on this box
def test_promotion_moves_the_champion_alias_in_a_real_registry(params, tmp_path):
    """move_champion_alias on a throwaway SQLite registry: champion -> new, previous_champion -> old,
    challenger cleared, only for a gate-accepted version (or forced, reason tagged); a version the
    registry lacks is refused."""
    from mlflow import MlflowClient

    from pipeline.deploy import registry
    from pipeline.modeling.tracking import setup_mlflow

    p = copy.deepcopy(params)
    p["mlflow"]["tracking_uri"] = f"sqlite:///{tmp_path}/mlflow.db"
    p["mlflow"]["artifact_location"] = str(tmp_path / "artifacts")
    setup_mlflow(p)
    client = MlflowClient()
    name = p["mlflow"]["registered_model"]
    client.create_registered_model(name)
    for _ in range(2):
        (tmp_path / "model").mkdir(exist_ok=True)
        client.create_model_version(name, str(tmp_path / "model"))
    client.set_registered_model_alias(name, registry.CHAMPION, "1")
    client.set_registered_model_alias(name, registry.CHALLENGER, "2")

    client.set_model_version_tag(name, "2", GATE_DECISION_TAG, "refused")
    with pytest.raises(RolloutError, match="'refused'"):
        move_champion_alias(p)("2", "1")
    assert str(client.get_model_version_by_alias(name, registry.CHAMPION).version) == "1"
    client.set_model_version_tag(name, "2", GATE_DECISION_TAG, "accepted")
    note = move_champion_alias(p)("2", "1")
    assert "champion" in note
    assert str(client.get_model_version_by_alias(name, registry.CHAMPION).version) == "2"
    assert str(client.get_model_version_by_alias(name, registry.PREVIOUS_CHAMPION).version) == "1"
    assert registry.CHALLENGER not in client.get_registered_model(name).aliases
    assert "champion_since" in client.get_model_version(name, "2").tags

    with pytest.raises(RolloutError, match="not in the MLflow registry"):
        move_champion_alias(p)("local-1a2b3c4d", "2")
    assert str(client.get_model_version_by_alias(name, registry.CHAMPION).version) == "2"  # untouched
    move_champion_alias(p, forced_reason="incident 42")("1", "2")  # never gated: only forced
    assert client.get_model_version(name, "1").tags[FORCED_TAG] == "incident 42"
    assert str(client.get_model_version_by_alias(name, registry.CHAMPION).version) == "1"
