"""The soak run's bookkeeping, free of servers: when each fault fires, which phase a call belongs to,
and the accounting the report is made of (sent / answered by status class / lost, latency per phase,
how long each fault disturbed the traffic).

A phase is named after the fault that opened it and lasts until the next fault fires; the time
before the first fault is the "baseline". `lost` counts requests that were sent and never got an
HTTP answer, whatever the retries: it must be 0.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FAULTS = ("worker_kill", "torchserve_kill", "redis_restart", "token_renewal", "explanation_flood",
          "canary_promote", "canary_rollback")
BASELINE = "baseline"


@dataclass(frozen=True)
class ScheduledFault:
    name: str
    at_s: float  # seconds after the traffic started


@dataclass(frozen=True)
class SoakCall:
    """One logical request (retries included) as the client saw it; times in seconds after the start."""

    kind: str  # predict | batch | explain | bad | flood
    started: float
    finished: float
    status: int | None  # final HTTP status; None: no answer at all (lost)
    attempts: int = 1
    error: str | None = None
    cached: bool | None = None
    version: str | None = None

    @property
    def latency_ms(self) -> float:
        return 1000.0 * (self.finished - self.started)


def build_schedule(faults: Sequence[dict], duration_s: float) -> list[ScheduledFault]:
    """params soak.faults ([{at: fraction of the run, fault: name}, ...]) -> faults in firing order.

    Refused: an unknown fault, a fraction outside (0, 1), faults out of order (each waits for the
    previous one to recover, so the order is the order they run in)."""
    if duration_s <= 0:
        raise ValueError(f"soak duration must be positive, got {duration_s}")
    schedule = []
    for item in faults:
        name, at = str(item["fault"]), float(item["at"])
        if name not in FAULTS:
            raise ValueError(f"soak fault {name!r} is unknown; known: {', '.join(FAULTS)}")
        if not 0 < at < 1:
            raise ValueError(f"soak fault {name!r} at {at}: a fraction of the run in (0, 1)")
        schedule.append(ScheduledFault(name, round(at * duration_s, 3)))
    if [f.at_s for f in schedule] != sorted(f.at_s for f in schedule):
        raise ValueError("soak faults must be listed in the order they fire (rising `at`)")
    return schedule


def phase_of(t: float, fired: Sequence[ScheduledFault]) -> str:
    """The phase a call started at `t` belongs to, given the faults as they actually fired."""
    phase = BASELINE
    for fault in fired:
        if t >= fault.at_s:
            phase = fault.name
    return phase


def percentile(values: Sequence[float], q: float) -> float | None:
    return round(float(np.percentile(values, q)), 2) if len(values) else None


def status_class(status: int | None) -> str:
    return "lost" if status is None else f"{status // 100}xx"


def account(calls: Sequence[SoakCall], sent: int, fired: Sequence[ScheduledFault], end_s: float) -> dict:
    """Totals, per-phase latency (answered predictions only, 2xx) and traffic disruption per fault."""
    classes = Counter(status_class(c.status) for c in calls)
    answered = sum(n for cls, n in classes.items() if cls != "lost")
    totals = {
        "sent": sent,
        "answered": answered,
        "answered_2xx": classes["2xx"],
        "answered_4xx": classes["4xx"],
        "answered_5xx": classes["5xx"],
        "lost": sent - answered,
        "retried": sum(c.attempts > 1 for c in calls),
        "by_kind": {kind: dict(Counter(status_class(c.status) for c in calls if c.kind == kind))
                    for kind in sorted({c.kind for c in calls})},
        "statuses": {str(k): v for k, v in sorted(Counter(c.status for c in calls if c.status is not None).items())},
    }
    bounds = [(BASELINE, 0.0), *((f.name, f.at_s) for f in fired)]
    phases = []
    for i, (name, begin) in enumerate(bounds):
        end = bounds[i + 1][1] if i + 1 < len(bounds) else end_s
        in_phase = [c for c in calls if begin <= c.started < end]
        ok = [c.latency_ms for c in in_phase if c.kind in ("predict", "batch") and c.status is not None and c.status < 300]
        phases.append({
            "phase": name, "from_s": round(begin, 1), "to_s": round(end, 1), "requests": len(in_phase),
            "5xx": sum(c.status is not None and c.status >= 500 for c in in_phase),
            "lost": sum(c.status is None for c in in_phase),
            "p50_ms": percentile(ok, 50), "p95_ms": percentile(ok, 95),
        })
    return {"totals": totals, "phases": phases}


def disruption_s(calls: Sequence[SoakCall], fault: ScheduledFault, until: float) -> float:
    """Seconds from the fault until the last prediction (single or batch) of its phase ended that
    needed a retry or got a 5xx or nothing (0.0 when the predictions did not notice the fault).
    Explanations are left out: the handler sheds them with 503 by design at any time, and their
    retries are no sign of the fault. A call still running when the next fault fires counts until
    then: what happens after is the next fault's."""
    hit = [min(c.finished, until) for c in calls if fault.at_s <= c.started < until and
           (c.attempts > 1 or c.status is None or c.status >= 500) and c.kind in ("predict", "batch")]
    return round(max(hit) - fault.at_s, 2) if hit else 0.0
