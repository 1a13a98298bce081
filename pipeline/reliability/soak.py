"""`make soak`: SOAK_MINUTES of mixed traffic at concurrency 8 through the canary proxy while faults
fire on a schedule (params soak.faults): worker kill, TorchServe JVM kill (supervisord restarts it),
Redis restart, token renewal, an explanation flood, a canary promoted and a canary rolled back.

A benchmark, not a test: it records what happened (bench/soak.json, the latency PNG, the README
tables) and exits 1 when a request was lost or a fault did not recover. Bounded: the traffic
stops at the set duration, or once the last fault has recovered when that is later (each fault is
bounded by its timeout), and every server is stopped at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import copy
import logging
import os
import platform
import shutil
import signal
import time
import traceback
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipeline.config import resolve_path
from pipeline.progress import progress_bar
from pipeline.reliability import soak_faults, soak_report, soak_stack
from pipeline.reliability.soak_schedule import ScheduledFault, account, build_schedule, disruption_s
from pipeline.reliability.soak_traffic import Traffic, TrafficMix
from pipeline.services import supervision

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SoakOptions:
    minutes: float
    work_dir: Path
    output: Path
    plot: Path
    model_dir: Path | None = None  # None: the tiny random test model (said so in the report)


def soak_params(params: dict, work: Path) -> dict:
    """params for the soak's servers and rollouts: its rollout section, state and logs under work."""
    p = copy.deepcopy(params)
    cfg = p["soak"]
    p["rollout"].update(cfg["rollout"], state_dir=str(work / "rollout_state"), log=str(work / "rollout_log.jsonl"))
    p["rollout"]["thresholds"].update(cfg["rollout_thresholds"])
    p["monitor"]["prediction_log"]["path"] = str(work / "prediction_logs" / "predictions-{pid}.jsonl")
    return p


def interrupt(signum, _frame) -> None:
    """SIGTERM ends the run like Ctrl-C: the servers are stopped on the way out."""
    raise KeyboardInterrupt(f"signal {signum}")


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def inject(ctx: soak_faults.FaultContext, schedule: list[ScheduledFault]) -> tuple[list[ScheduledFault], list[dict]]:
    """Fire each fault at its time (or when the previous one has recovered, if later), in order.
    Every fault fires: a short run lasts until the last one has recovered (each bounded by its timeout)."""
    fired, results = [], []
    for fault in progress_bar(schedule, desc="soak faults", unit="fault"):
        wait = fault.at_s - ctx.traffic.now()
        if wait > 0:
            time.sleep(wait)
        actual = ScheduledFault(fault.name, round(ctx.traffic.now(), 2))
        fired.append(actual)
        log.info("soak: %s at %.0f s", fault.name, actual.at_s)
        try:
            figures = soak_faults.ACTIONS[fault.name](ctx)
        except Exception as exc:  # noqa: BLE001 - recorded; the run goes on with the next fault
            traceback.print_exc()
            figures = {"error": f"{type(exc).__name__}: {exc}"}
        results.append({"fault": fault.name, "at_s": actual.at_s, **figures})
        log.info("soak: %s -> %s", fault.name, figures)
    return fired, results


def run_soak(params: dict, options: SoakOptions) -> dict:
    """The whole run (module docstring); returns the report also written to options.output."""
    from pipeline.client import IntentClient
    from pipeline.reliability.scenarios import tiny_model_dir

    cfg = params["soak"]
    work = options.work_dir.resolve()
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    p = soak_params(params, work)
    duration = options.minutes * 60
    schedule = build_schedule(cfg["faults"], duration)
    model_dir = options.model_dir.resolve() if options.model_dir else tiny_model_dir(work / "tiny_model", p)
    served = (f"model directory {options.model_dir.name} (MODEL_DIR)" if options.model_dir
              else "tiny random test model (2-layer, 32-wide BERT; no MODEL_DIR given)")
    log.info("soak: %s min, model %s, work dir %s", options.minutes, served, work)
    archives = soak_stack.build_archives(model_dir, work / "store", p, work)
    load_before = load_average()
    stack, traffic = soak_stack.soak_stack(p, work, work / "store", archives.stable), None
    previous_term = signal.signal(signal.SIGTERM, interrupt)
    try:
        supervision.start(stack, stable_version="1")
        rss_start = soak_stack.stack_rss(stack)
        client_cfg = cfg["client"]
        client = IntentClient(soak_stack.proxy(stack).url, token_file=stack.torchserve_dir / "key_file.json",
                              timeout=float(client_cfg["timeout_s"]), retries=int(client_cfg["retries"]),
                              backoff=float(client_cfg["backoff_s"]), retry_statuses=tuple(client_cfg["retry_statuses"]))
        mix = TrafficMix(**cfg["mix"])
        traffic = Traffic(client, p["serve"]["model_name"], mix, concurrency=int(cfg["concurrency"]),
                          think_s=float(cfg["think_ms"]) / 1000, seed=int(params.get("seed", 0))).start()
        ctx = soak_faults.FaultContext(p, stack, traffic, archives, timeout=float(cfg["recovery_timeout_seconds"]),
                                       redis_outage_s=float(cfg["redis_outage_seconds"]),
                                       flood_threads=int(cfg["flood_threads"]), flood_seconds=float(cfg["flood_seconds"]))
        fired, faults = inject(ctx, schedule)
        remaining = duration - traffic.now()
        if remaining > 0:
            time.sleep(remaining)
        end_s = traffic.now()
        calls = traffic.stop()
        rss_end = soak_stack.stack_rss(stack)
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        if traffic is not None:
            traffic.stop(timeout=60)
        log.info("soak: stopping every server")
        supervision.stop(stack)
    accounting = account(calls, traffic.sent, fired, end_s)
    bounds = [f.at_s for f in fired] + [end_s]
    for result in faults:
        match = [i for i, f in enumerate(fired) if f.name == result["fault"] and f.at_s == result["at_s"]]
        if match:
            result["disturbed_s"] = disruption_s(calls, fired[match[0]], bounds[match[0] + 1])
    report = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": options.minutes,
        "served_model": served,
        "concurrency": int(cfg["concurrency"]),
        "think_ms": cfg["think_ms"],
        "mix": asdict(mix),
        "client": cfg["client"],
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "load_average_before": load_before,
                    "load_average_after": load_average()},
        **accounting,
        "faults": faults,
        "rss_start": rss_start,
        "rss_end": rss_end,
        "rss_by_role": soak_report.rss_by_role(rss_start, rss_end),
        "ok": accounting["totals"]["lost"] == 0 and not any("error" in f for f in faults),
    }
    report["plot"] = str(soak_report.plot(calls, faults, options.plot, f"soak {options.minutes:g} min, c={cfg['concurrency']}, "
                                          f"{served.split(' (')[0]}, load {load_before[0]}-{report['machine']['load_average_after'][0]}"))
    return report


def default_options(params: dict, minutes: float | None = None, model_dir: Path | None = None) -> SoakOptions:
    cfg = params["soak"]
    return SoakOptions(minutes=float(minutes if minutes is not None else cfg["minutes"]), work_dir=resolve_path(cfg["work_dir"]),
                       output=resolve_path(cfg["output"]), plot=resolve_path(cfg["plot"]), model_dir=model_dir)
