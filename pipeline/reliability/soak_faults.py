"""The faults a soak run injects, each returning when the service has recovered (bounded by
`timeout`) with its figures: what was done and `recovery_s`, the seconds until the fault's own sign
of recovery (a new worker READY, TorchServe answering again, cached answers again, a rollout
finished...)."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

from pipeline.reliability import soak_stack
from pipeline.reliability.scenarios import all_workers_ready, worker_pids
from pipeline.reliability.soak_stack import SoakArchives
from pipeline.reliability.soak_traffic import Traffic
from pipeline.services import supervision, wait_until
from pipeline.services.token_renewer import RENEWED_APIS, renew


@dataclass
class FaultContext:
    params: dict  # the soak's params copy (its rollout section already set from soak.rollout)
    stack: supervision.SupervisedStack
    traffic: Traffic
    archives: SoakArchives
    timeout: float = 180.0
    redis_outage_s: float = 3.0
    flood_threads: int = 4
    flood_seconds: float = 20.0

    @property
    def model(self) -> str:
        return self.params["serve"]["model_name"]


def worker_kill(ctx: FaultContext) -> dict:
    ts = soak_stack.torchserve(ctx.stack)
    wait_until(lambda: all_workers_ready(ts, ctx.model), ctx.timeout, interval=0.2, what="every worker READY")
    before = worker_pids(ts, ctx.model)
    began = time.monotonic()
    os.kill(before[0], signal.SIGKILL)
    wait_until(lambda: any(p not in before for p in worker_pids(ts, ctx.model)), ctx.timeout, interval=0.1,
               what="a new READY worker")
    return {"killed_pid": before[0], "recovery_s": round(time.monotonic() - began, 2), "sign": "new worker READY"}


def torchserve_kill(ctx: FaultContext) -> dict:
    """SIGKILL the JVM (what an out-of-memory exit looks like): supervisord restarts it from its snapshot."""
    pids = soak_stack.jvm_pids(ctx.stack)
    if len(pids) != 1:
        raise RuntimeError(f"expected one TorchServe JVM of the soak stack, found {pids}")
    default_before = soak_stack.torchserve(ctx.stack).default_version(ctx.model)
    began, t = time.monotonic(), ctx.traffic.now()
    os.kill(pids[0], signal.SIGKILL)
    wait_until(lambda: soak_stack.jvm_pids(ctx.stack) not in ([], pids) and ctx.traffic.answered_since(t + 0.5),
               ctx.timeout * 2, interval=0.2, what="TorchServe restarted by supervisord and answering")
    recovery = time.monotonic() - began
    default_after = soak_stack.torchserve(ctx.stack).default_version(ctx.model)
    return {"killed_pid": pids[0], "recovery_s": round(recovery, 2), "sign": "a prediction answered after the restart",
            "default_before": default_before, "default_after": default_after}


def redis_restart(ctx: FaultContext) -> dict:
    supervision.supervisorctl(ctx.stack, "stop", "redis")
    time.sleep(ctx.redis_outage_s)
    started = supervision.supervisorctl(ctx.stack, "start", "redis")
    began, t = time.monotonic(), ctx.traffic.now()
    wait_until(lambda: ctx.traffic.answered_since(t, cached=True), ctx.timeout, interval=0.2, what="cached answers again")
    return {"outage_s": ctx.redis_outage_s, "restart": started.stdout.strip(), "recovery_s": round(time.monotonic() - began, 2),
            "sign": "cached answers again"}


def token_renewal(ctx: FaultContext) -> dict:
    """Both tokens replaced through TorchServe's token API, as the renewer does at expiry."""
    ts = soak_stack.torchserve(ctx.stack)
    before = ts.keys()
    began, t = time.monotonic(), ctx.traffic.now()
    for api in RENEWED_APIS:
        renew(ts.management_port, ts.key_file(), api)
    wait_until(lambda: ctx.traffic.answered_since(t + 0.1), ctx.timeout, interval=0.1, what="an answer with the new token")
    after = ts.keys()
    return {"renewed": [api for api in RENEWED_APIS if before[api] != after[api]],
            "recovery_s": round(time.monotonic() - began, 2), "sign": "an answer after the renewal"}


def explanation_flood(ctx: FaultContext) -> dict:
    began = time.monotonic()
    ctx.traffic.flood(ctx.flood_threads, ctx.flood_seconds)
    return {"threads": ctx.flood_threads, "seconds": ctx.flood_seconds, "recovery_s": 0.0,
            "sign": "none needed (the flood ends; see the phase's latency)", "took_s": round(time.monotonic() - began, 1)}


def _rollout(ctx: FaultContext, mar: str) -> dict:
    from pipeline.deploy.rollout import GateCheck, Rollout

    ts = soak_stack.torchserve(ctx.stack)
    rollout = Rollout(ctx.params, ts, soak_stack.proxy(ctx.stack), gate=GateCheck.forced("soak run: no registry"))
    began = time.monotonic()
    state = rollout.start(ts.model_store / mar)
    return {"version": state.canary, "stable": state.stable, "status": state.status, "reason": state.reason,
            "recovery_s": round(time.monotonic() - began, 2), "sign": "rollout finished"}


def canary_promote(ctx: FaultContext) -> dict:
    return _rollout(ctx, ctx.archives.good)


def canary_rollback(ctx: FaultContext) -> dict:
    return _rollout(ctx, ctx.archives.bad)


ACTIONS = {f.__name__: f for f in (worker_kill, torchserve_kill, redis_restart, token_renewal, explanation_flood,
                                   canary_promote, canary_rollback)}
