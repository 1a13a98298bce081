"""Canary rollout of a new model version behind the nginx proxy: register, step, decide, finish.

States (persisted after every transition in rollout_state/<model>.json, so a restarted command
resumes where it stopped or aborts cleanly):

    registering -> canary(step i of rollout.steps) -> promoting -> promoted
          \\               \\                                       (terminal)
           `--------------`-> rolling_back -> rolled_back | aborted (terminal)

- registering: the .mar is registered next to the serving (stable) version through the
  management API, its workers must be READY and answer warm-up requests before any traffic.
- canary step i: nginx sends steps[i] % of unversioned requests to the new version; after
  hold_seconds (live 5xx checked every check_interval_seconds) the step is judged from the live
  traffic, TorchServe's metrics and the labelled probe set (pipeline.deploy.rollout_checks).
- promoting: all traffic to the new version, set-default in TorchServe, MLflow `champion` moved,
  old version unregistered after draining.
- rolling_back: weight 0, stable made default again, new version unregistered after draining;
  registry aliases untouched.
The promotion gate is mandatory: a rollout starts, an operator promotion happens and the champion
alias moves only for a registry version whose gate decision (the `promotion.decision` tag
pipeline.evaluation.gate writes) is "accepted". `GateCheck.forced(reason)` (`--force REASON`) is
the one way round: the reason is logged when the rollout starts and tagged on the version.
A resumed rollout re-applies the weight of the step it was in and restarts that step's hold.
A command that dies of an exception, SIGINT, SIGTERM/SIGHUP (`signals_raise`) or a lost management
connection first puts the proxy back on the stable version when it was registering or in canary
(a promotion or rollback in progress keeps its routing: that is the last safe state), records
why, and keeps the state resumable. SIGKILL leaves no such chance: the saved state still lets a
rerun resume or abort.
Every decision is one JSON line in rollout.log with its figures.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import random
import signal
import time
import zipfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import requests

from pipeline.config import check_safe_name, resolve_path
from pipeline.deploy.rollout_checks import (
    ProbeResult,
    Thresholds,
    decide,
    live_stats,
    probe_figures,
    scrape_ts_metrics,
    send_probe,
    ts_deltas,
)
from pipeline.progress import progress_bar
from pipeline.services.nginx import ProxyLimits, Routing, access_log_size, read_access_log

log = logging.getLogger(__name__)

ACTIVE = ("registering", "canary", "promoting", "rolling_back")
TERMINAL = ("promoted", "rolled_back", "aborted")
TORCHSERVE_MAX_REQUEST_SIZE = 6553500  # TorchServe's default when config.properties does not set it


class RolloutError(RuntimeError):
    """A rollout cannot start or continue (the message says what to do)."""


class RolloutBusy(RolloutError):
    """Another rollout command holds the lock for this model."""


class RolloutInterrupted(BaseException):
    """A termination signal reached the rollout command (BaseException, like KeyboardInterrupt:
    no `except Exception` on the way may swallow it)."""

    def __init__(self, signum: int):
        super().__init__(f"{signal.Signals(signum).name} received")
        self.signum = signum


STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


@contextmanager
def signals_raise(signals: tuple[signal.Signals, ...] = STOP_SIGNALS):
    """Within the block, SIGTERM/SIGHUP raise RolloutInterrupted so the rollout can leave traffic on
    the stable version before the process exits (the default action would kill it mid-step)."""

    def handler(signum, _frame):
        raise RolloutInterrupted(signum)

    previous = {s: signal.signal(s, handler) for s in signals}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def mar_manifest(mar: Path) -> tuple[str, str]:
    """(model name, version) recorded in a .mar by torch-model-archiver."""
    if not mar.is_file():
        raise FileNotFoundError(f"model archive not found: {mar} (build it with `make archive`)")
    try:
        with zipfile.ZipFile(mar) as archive:
            manifest = json.loads(archive.read("MAR-INF/MANIFEST.json"))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"{mar}: not a TorchServe model archive (no readable MAR-INF/MANIFEST.json): {exc}") from exc
    model = manifest.get("model", {})
    if not model.get("modelName") or not model.get("modelVersion"):
        raise ValueError(f"{mar}: MAR-INF/MANIFEST.json lacks model.modelName / model.modelVersion")
    try:
        return check_safe_name(str(model["modelName"]), "model name"), check_safe_name(str(model["modelVersion"]), "model version")
    except ValueError as exc:
        raise ValueError(f"{mar}: {exc}") from exc


@dataclass(frozen=True)
class RolloutConfig:
    """params `rollout` (see params.yaml for the meaning of each key)."""

    steps: tuple[float, ...]
    hold_seconds: float
    check_interval_seconds: float
    drain_seconds: float
    initial_workers: int
    warmup_requests: int
    register_timeout_seconds: float
    thresholds: Thresholds
    probe_file: Path
    probe_max_rows: int
    probe_concurrency: int
    state_dir: Path
    log_path: Path
    seed: int = 0

    @classmethod
    def from_params(cls, params: dict) -> RolloutConfig:
        cfg = params["rollout"]
        steps = tuple(float(s) for s in cfg["steps"])
        if not steps or any(not 0 < s <= 100 for s in steps) or list(steps) != sorted(steps) or steps[-1] != 100:
            raise ValueError(f"params rollout.steps must rise within (0, 100] and end at 100, got {list(steps)}")
        return cls(
            steps=steps,
            hold_seconds=float(cfg["hold_seconds"]),
            check_interval_seconds=float(cfg["check_interval_seconds"]),
            drain_seconds=float(cfg["drain_seconds"]),
            initial_workers=int(cfg["initial_workers"]),
            warmup_requests=int(cfg["warmup_requests"]),
            register_timeout_seconds=float(cfg["register_timeout_seconds"]),
            thresholds=Thresholds.from_params(cfg["thresholds"]),
            probe_file=resolve_path(cfg["probe"]["file"]),
            probe_max_rows=int(cfg["probe"]["max_rows"]),
            probe_concurrency=int(cfg["probe"]["concurrency"]),
            state_dir=resolve_path(cfg["state_dir"]),
            log_path=resolve_path(cfg["log"]),
            seed=int(params.get("seed", 0)),
        )


@dataclass
class RolloutState:
    model: str
    mar: str  # file name inside the model store
    canary: str
    stable: str
    steps: list[float]
    status: str = "registering"
    step: int = 0  # index of the step in progress (== len(steps) once all passed)
    started: str = field(default_factory=now_iso)
    updated: str = field(default_factory=now_iso)
    reason: str | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class StateStore:
    """The rollout in progress for one model, as JSON written atomically, plus a command lock."""

    def __init__(self, state_dir: Path, model: str):
        self.path = state_dir / f"{model}.json"
        self.lock_path = state_dir / f"{model}.lock"
        self._lock_fh = None

    def load(self) -> RolloutState | None:
        if not self.path.is_file():
            return None
        try:
            return RolloutState(**json.loads(self.path.read_text(encoding="utf-8")))
        except (json.JSONDecodeError, TypeError) as exc:
            raise RolloutError(f"{self.path}: unreadable rollout state ({exc}); inspect it, then delete it") from exc

    def save(self, state: RolloutState) -> None:
        """temp file, fsync, rename, fsync of the directory: a crash leaves the old or the new state, never half."""
        state.updated = now_iso()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".json.tmp")
        with tmp.open("w", encoding="utf-8") as fh:
            fh.write(json.dumps(asdict(state), indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        tmp.replace(self.path)
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)

    def lock(self) -> None:
        """One rollout command per model at a time (a second one would fight over the weights)."""
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.lock_path.open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "?"
            fh.close()
            raise RolloutBusy(f"another rollout command (pid {holder}) is running for this model: stop it first") from None
        fh.seek(0)
        fh.truncate()
        fh.write(str(os.getpid()))
        fh.flush()
        self._lock_fh = fh

    def unlock(self) -> None:
        if self._lock_fh is not None:
            fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None


class RolloutLog:
    """Append-only JSONL of decisions: event, versions, figures, reasons, time."""

    def __init__(self, path: Path):
        self.path = path

    def append(self, event: str, state: RolloutState, **figures) -> dict:
        record = {
            "time": now_iso(),
            "event": event,
            "model": state.model,
            "stable": state.stable,
            "canary": state.canary,
            "status": state.status,
            **figures,
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True, default=str) + "\n")
        log.info("rollout %s: %s", event, {k: v for k, v in record.items() if k in ("weight", "decision", "reasons", "note")})
        return record

    def read(self) -> list[dict]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def load_probe(cfg: RolloutConfig, params: dict) -> list[dict]:
    """The labelled probe rows (any bad row is an error: a probe must be trustworthy)."""
    from pipeline.data.ingest import load_labelled_file

    rows, _ = load_labelled_file(cfg.probe_file, params, strict=True)
    if len(rows) > cfg.probe_max_rows:
        rows = random.Random(cfg.seed).sample(rows, cfg.probe_max_rows)
    return rows


AliasMover = Callable[[str, str], str]  # (new champion version, previous version) -> note for the log

GATE_DECISION_TAG = "promotion.decision"  # written by pipeline.evaluation.gate on the candidate version
FORCED_TAG = "promotion.forced_reason"


def gate_decision(params: dict, version: str) -> str | None:
    """The gate's decision recorded on registry `version` ("accepted", "refused", ...), None when the
    version was never gated; RolloutError when the registry does not hold the version."""
    from mlflow import MlflowClient
    from mlflow.exceptions import MlflowException

    from pipeline.modeling.tracking import setup_mlflow

    setup_mlflow(params)
    name = params["mlflow"]["registered_model"]
    try:
        return MlflowClient().get_model_version(name, version).tags.get(GATE_DECISION_TAG)
    except MlflowException as exc:
        raise RolloutError(
            f"version {version} is not in the MLflow registry ({name}): register it and pass the promotion gate "
            "(make register MODEL=dir), or --force REASON"
        ) from exc


@dataclass(frozen=True)
class GateCheck:
    """Whether a version may be rolled out and promoted: the gate's acceptance, or a forced reason."""

    params: dict | None
    forced_reason: str | None = None

    @classmethod
    def forced(cls, reason: str) -> GateCheck:
        if not reason.strip():
            raise ValueError("--force needs a reason (it is logged with the rollout)")
        return cls(None, reason.strip())

    def __call__(self, version: str) -> str:
        """A note for the log, or RolloutError naming why the version may not go on."""
        if self.forced_reason is not None:
            log.warning("promotion gate bypassed for v%s: %s", version, self.forced_reason)
            return f"gate FORCED: {self.forced_reason}"
        decision = gate_decision(self.params, version)
        if decision != "accepted":
            raise RolloutError(
                f"version {version}: promotion gate decision is {decision or 'missing (never gated)'!r}, not 'accepted': "
                "run `make promote VERSION=...` (DRY_RUN=1 to only judge), or --force REASON"
            )
        return "gate accepted"


def move_champion_alias(params: dict, forced_reason: str | None = None) -> AliasMover:
    """Registry step of a promotion: `champion` -> new version, `previous_champion` -> old one.
    Refused (RolloutError) for a version the gate did not accept, unless forced (the reason is
    tagged on the version)."""

    def move(version: str, previous: str) -> str:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException

        from pipeline.deploy import registry
        from pipeline.modeling.tracking import setup_mlflow

        (GateCheck.forced(forced_reason) if forced_reason else GateCheck(params))(version)
        setup_mlflow(params)
        name = params["mlflow"]["registered_model"]
        client = MlflowClient()
        if forced_reason:
            client.set_model_version_tag(name, version, FORCED_TAG, forced_reason)
        try:
            client.get_model_version(name, previous)
            registry.set_alias(registry.PREVIOUS_CHAMPION, previous, params)
        except MlflowException:
            pass  # the old serving version was not a registry version: nothing to keep as rollback target
        registry.set_alias(registry.CHAMPION, version, params)
        client.set_model_version_tag(name, version, "champion_since", now_iso())
        try:
            if str(client.get_model_version_by_alias(name, registry.CHALLENGER).version) == version:
                registry.delete_alias(registry.CHALLENGER, params)
        except MlflowException:
            pass
        return f"MLflow alias champion -> {name} v{version}"

    return move


class Rollout:
    """Drives one model's rollout on a TorchServe instance and an NginxProxy in front of it."""

    def __init__(
        self,
        params: dict,
        torchserve,
        proxy,
        *,
        gate: Callable[[str], str],
        move_alias: AliasMover | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        send: Callable[..., ProbeResult] = send_probe,
    ):
        self.params = params
        self.cfg = RolloutConfig.from_params(params)
        self.model = params["serve"]["model_name"]
        self.ts = torchserve
        self.proxy = proxy
        self.gate = gate
        self.move_alias = move_alias
        self.sleep = sleep
        self.clock = clock
        self.send = send
        self.store = StateStore(self.cfg.state_dir, self.model)
        self.log = RolloutLog(self.cfg.log_path)
        self._probe_rows: list[dict] | None = None
        self._acting = False  # set once this command drives a rollout (see _locked)

    # -- entry points ------------------------------------------------------------------------------
    @contextmanager
    def _locked(self):
        """One command at a time; whatever ends it early (exception, signal) leaves traffic safe first."""
        self.store.lock()
        self._acting = False
        try:
            yield
        except BaseException as exc:
            if self._acting:  # a refusal before anything moved leaves the state alone
                self._make_safe(exc)
            raise
        finally:
            self.store.unlock()

    def _make_safe(self, exc: BaseException) -> None:
        """Registering or in canary: weight 0 (stable takes all unversioned traffic), state kept
        resumable. Promoting / rolling back: routing left as is (it already points at the version
        that stays). Further stop signals wait until this is done."""
        state = self.store.load()
        if state is None or not state.active:
            return
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {*STOP_SIGNALS, signal.SIGINT})
        try:
            cause = f"{type(exc).__name__}: {exc}"
            state.reason = f"interrupted ({cause}); rerun to resume"
            weight = None
            if state.status in ("registering", "canary"):
                try:
                    self.proxy.set_routing(Routing(state.stable))
                    weight = 0
                except Exception as proxy_exc:  # noqa: BLE001 - report both failures, raise the first
                    log.error("could not put traffic back on v%s: %s", state.stable, proxy_exc)
                    cause += f"; proxy NOT reset: {proxy_exc}"
            self.store.save(state)
            self.log.append("interrupted", state, step=state.step, weight=weight, reasons=[cause])
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def start(self, mar: Path) -> RolloutState:
        """Begin a rollout of `mar`, or resume the one in progress for the same archive."""
        with self._locked():
            return self._start(mar)

    def _start(self, mar: Path) -> RolloutState:
        name, version = mar_manifest(mar)
        if name != self.model:
            raise RolloutError(f"{mar} holds model {name!r}, but serve.model_name is {self.model!r}")
        store = Path(self.ts.model_store).resolve()
        if mar.resolve().parent != store:
            raise RolloutError(f"{mar} must be in the TorchServe model store {store} (allowed_urls admits only that)")
        state = self.store.load()
        if state is not None and state.active:
            if state.canary != version or state.mar != mar.name:
                raise RolloutError(
                    f"a rollout of {self.model} v{state.canary} is in progress ({state.status}): "
                    "finish it with `make canary-promote` / `make canary-rollback`, or abort it (scripts/rollout.py canary --abort)"
                )
            self.log.append("resumed", state, step=state.step)
            return self.run(state)
        stable = self.ts.default_version(self.model)
        if stable is None:
            raise RolloutError(f"{self.model} is not served: start TorchServe with a version first (make serve)")
        if stable == version:
            raise RolloutError(f"{mar} is version {version}, which is already the serving version")
        gate_note = self.gate(version)
        state = RolloutState(model=self.model, mar=mar.name, canary=version, stable=stable, steps=list(self.cfg.steps))
        self.store.save(state)
        self.log.append("started", state, mar=mar.name, steps=state.steps, thresholds=asdict(self.cfg.thresholds),
                        gate=gate_note)
        return self.run(state)

    def run(self, state: RolloutState) -> RolloutState:
        """Drive `state` to a terminal status (each transition saved before it is acted on)."""
        self._acting = True
        if state.status == "registering":
            failure = self._register(state)
            if failure:
                return self._rollback(state, failure)
            state.status = "canary"
            self.store.save(state)
        if state.status == "canary":
            failure = self._steps(state)
            if failure:
                return self._rollback(state, failure)
            return self._promote(state, "all steps passed")
        if state.status == "promoting":
            return self._promote(state, state.reason or "resumed promotion")
        if state.status == "rolling_back":
            return self._rollback(state, state.reason or "resumed rollback")
        return state

    def promote_now(self) -> RolloutState:
        """Operator's promote: skip the remaining steps of the rollout in progress."""
        with self._locked():
            return self._promote_now()

    def _promote_now(self) -> RolloutState:
        state = self._active_state()
        if state.status == "registering":
            raise RolloutError("the new version is still registering: wait for the canary steps, or roll back")
        if state.status == "rolling_back":
            raise RolloutError("a rollback is in progress: finish it with `make canary-rollback`")
        return self._promote(state, f"promoted by operator ({self.gate(state.canary)})")

    def rollback_now(self, abort: bool = False) -> RolloutState:
        """Operator's rollback (abort: the same, recorded as aborted)."""
        with self._locked():
            return self._rollback_now(abort)

    def _rollback_now(self, abort: bool) -> RolloutState:
        state = self._active_state()
        if state.status == "promoting":
            raise RolloutError("a promotion is in progress: finish it with `make canary-promote`")
        return self._rollback(state, "aborted by operator" if abort else "rolled back by operator", abort=abort)

    def status(self) -> dict:
        state = self.store.load()
        out = {"state": asdict(state) if state else None, "log": str(self.cfg.log_path)}
        try:
            out["proxy"] = self.proxy.status() if self.proxy else None
        except requests.RequestException as exc:
            out["proxy"] = f"unreachable: {exc}"
        try:
            default = self.ts.default_version(self.model)
            out["versions"] = {
                d["modelVersion"]: {"workers": [w.get("status") for w in d.get("workers", [])], "default": d["modelVersion"] == default}
                for d in self.ts.describe(self.model)
            }
        except (requests.RequestException, OSError) as exc:
            out["versions"] = f"TorchServe unreachable: {exc}"
        out["last_decisions"] = self.log.read()[-5:]
        return out

    def _active_state(self) -> RolloutState:
        state = self.store.load()
        if state is None or not state.active:
            raise RolloutError(f"no rollout of {self.model} in progress (start one with `make canary MAR=...`)")
        return state

    # -- registering ----------------------------------------------------------------------------
    def _registered(self, version: str) -> bool:
        try:
            return any(d.get("modelVersion") == version for d in self.ts.describe(self.model))
        except requests.HTTPError:
            return False

    def _register(self, state: RolloutState) -> str | None:
        started = self.clock()
        if not self._registered(state.canary):
            response = self.ts.register(
                state.mar, initial_workers=self.cfg.initial_workers, timeout=self.cfg.register_timeout_seconds
            )
            if response.status_code != 200:
                return f"registration failed: HTTP {response.status_code} {response.text.strip()[:300]}"
        # a newly registered version can become the default (docs/architecture.md): keep unversioned calls on stable
        self.ts.ensure_default(self.model, state.stable)
        try:
            self.ts.wait_model_ready(self.model, state.canary, timeout=self.cfg.register_timeout_seconds)
        except (TimeoutError, RuntimeError) as exc:
            return f"new version never had a READY worker: {exc}"
        warm = self._warm_up(state.canary)
        self.log.append("registered", state, seconds=round(self.clock() - started, 2), warmup=warm)
        if warm["failed"]:
            return f"warm-up failed on {warm['failed']}/{warm['sent']} requests (statuses {warm['statuses']})"
        return None

    def _warm_up(self, version: str) -> dict:
        texts = [row["text"] for row in self._probe()[: self.cfg.warmup_requests]]
        url = self.ts.inference_url(f"predictions/{self.model}/{version}")
        result = self.send(url, texts, self.ts.client(retries=0), concurrency=1)
        failed = sum(1 for s in result.statuses if s != 200)
        return {"sent": len(texts), "failed": failed, "statuses": sorted(set(result.statuses))}

    def _probe(self) -> list[dict]:
        if self._probe_rows is None:
            self._probe_rows = load_probe(self.cfg, self.params)
        return self._probe_rows

    # -- canary steps ------------------------------------------------------------------------------
    def _steps(self, state: RolloutState) -> str | None:
        for index in progress_bar(range(state.step, len(state.steps)), desc="canary steps", unit="step"):
            weight = state.steps[index]
            offset = access_log_size(self.proxy.access_log)
            self.proxy.set_routing(Routing(state.stable, state.canary, weight))
            step_start = self.clock()
            ts_before = self._ts_metrics()
            self.log.append("weight", state, step=index, weight=weight)
            failure = self._hold(state, index, weight, step_start, offset)
            if failure is None:
                figures = self._measure(state, step_start, offset, ts_before)
                reasons = decide(figures, state.canary, self.cfg.thresholds)
                decision = "rollback" if reasons else ("promote" if index == len(state.steps) - 1 else "continue")
                self.log.append("step", state, step=index, weight=weight, decision=decision, reasons=reasons, **figures)
                failure = "; ".join(reasons) or None
            if failure:
                return f"step {index} ({weight:g} %): {failure}"
            state.step = index + 1
            self.store.save(state)
        return None

    def _hold(self, state: RolloutState, index: int, weight: float, step_start: float, offset: int) -> str | None:
        """Wait hold_seconds, checking the canary's live 5xx rate every check_interval_seconds."""
        live_only = replace(self.cfg.thresholds, max_p95_ms=None)
        while (remaining := self.cfg.hold_seconds - (self.clock() - step_start)) > 0:
            self.sleep(min(self.cfg.check_interval_seconds, remaining))
            live = live_stats(read_access_log(self.proxy.access_log, since=step_start, offset=offset))
            reasons = decide({"live": live}, state.canary, live_only)
            if reasons:
                self.log.append(
                    "step", state, step=index, weight=weight, decision="rollback", early=True, reasons=reasons, live=live
                )
                return "; ".join(reasons)
        return None

    def _ts_metrics(self) -> dict:
        try:
            return scrape_ts_metrics(self.ts.metrics_url(), self.model)
        except requests.RequestException as exc:
            log.warning("TorchServe metrics unavailable: %s", exc)
            return {}

    def _measure(self, state: RolloutState, step_start: float, offset: int, ts_before: dict) -> dict:
        live = live_stats(read_access_log(self.proxy.access_log, since=step_start, offset=offset))
        rows = self._probe()
        texts, labels = [r["text"] for r in rows], [r["intent"] for r in rows]
        client = self.ts.client(retries=0)  # no retries: a failing version must show
        results = {
            role: self.send(
                f"{self.proxy.url}/predictions/{self.model}/{version}", texts, client, self.cfg.probe_concurrency
            )
            for role, version in (("canary", state.canary), ("stable", state.stable))
        }
        return {
            "live": live,
            "probe": probe_figures(labels, results["canary"], results["stable"]),
            "torchserve": ts_deltas(ts_before, self._ts_metrics()),
            "seconds": round(self.clock() - step_start, 2),
        }

    # -- endings -----------------------------------------------------------------------------------
    def _promote(self, state: RolloutState, reason: str) -> RolloutState:
        self._acting = True
        state.status, state.reason = "promoting", reason
        self.store.save(state)
        self.proxy.set_routing(Routing(state.canary))  # every unversioned request to the new version
        self.ts.ensure_default(self.model, state.canary)
        note = "registry step skipped (no alias mover configured)"
        if self.move_alias is not None:
            try:
                note = self.move_alias(state.canary, state.stable)
            except Exception as exc:  # noqa: BLE001 - serving is promoted already; the registry can be fixed by hand
                note = f"MLflow alias NOT moved ({type(exc).__name__}: {exc}): set it by hand (pipeline.deploy.registry.set_alias)"
        self.sleep(self.cfg.drain_seconds)
        retired = self._unregister(state.stable)
        state.status = "promoted"
        self.store.save(state)
        self.log.append("promoted", state, reason=reason, note=note, retired=retired)
        return state

    def _rollback(self, state: RolloutState, reason: str, abort: bool = False) -> RolloutState:
        self._acting = True
        state.status, state.reason = "rolling_back", reason
        self.store.save(state)
        self.proxy.set_routing(Routing(state.stable))  # weight 0: nothing new reaches the canary
        self.ts.ensure_default(self.model, state.stable)
        self.sleep(self.cfg.drain_seconds)
        removed = self._unregister(state.canary)
        state.status = "aborted" if abort else "rolled_back"
        self.store.save(state)
        self.log.append(state.status, state, reason=reason, unregistered=removed)
        return state

    def _unregister(self, version: str) -> bool:
        if not self._registered(version):
            return False
        response = self.ts.unregister(self.model, version)
        if response.status_code not in (200, 404):
            raise RolloutError(f"unregister {self.model}/{version} failed: HTTP {response.status_code} {response.text}")
        return response.status_code == 200


def ensure_proxy(params: dict, torchserve, prefix: Path | None = None):
    """The canary proxy in front of `torchserve`: the running one (re-pointed if TorchServe moved
    ports), or a new detached one sending everything to the current default version."""
    from pipeline.services.nginx import DEFAULT_PREFIX, NginxProxy

    prefix = prefix or DEFAULT_PREFIX
    cfg = params["rollout"]["proxy"]
    model = params["serve"]["model_name"]
    limits = proxy_limits(params, torchserve)
    try:
        proxy = NginxProxy.attach(prefix)
    except (FileNotFoundError, RuntimeError):
        proxy = None
    if proxy is not None:
        if proxy.upstream_port != torchserve.inference_port or proxy.limits != limits:
            proxy.upstream_port, proxy.limits = torchserve.inference_port, limits
            proxy.set_routing(proxy.routing or Routing(torchserve.default_version(model)))
        return proxy
    stable = torchserve.default_version(model)
    if stable is None:
        raise RolloutError(f"{model} is not served: start TorchServe with a version first (make serve)")
    proxy = NginxProxy(
        upstream_port=torchserve.inference_port,
        listen_port=int(cfg["port"]),
        prefix=prefix,
        model_name=model,
        split_key=str(cfg["split_key"]),
        limits=limits,
    )
    return proxy.start(Routing(stable))


def proxy_limits(params: dict, torchserve) -> ProxyLimits:
    """params rollout.proxy.limits, with the body bound read from TorchServe's effective config."""
    from pipeline.services.torchserve import read_properties

    max_request_size = int(read_properties(torchserve.config_path()).get("max_request_size", TORCHSERVE_MAX_REQUEST_SIZE))
    return ProxyLimits.from_params(params["rollout"]["proxy"]["limits"], max_request_size)
