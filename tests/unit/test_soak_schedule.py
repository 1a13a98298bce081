"""The soak run's schedule and accounting (pipeline/reliability/soak_schedule.py): no servers."""

from __future__ import annotations

import pytest

from pipeline.reliability.soak_report import markdown, rss_by_role
from pipeline.reliability.soak_schedule import (
    BASELINE,
    ScheduledFault,
    SoakCall,
    account,
    build_schedule,
    disruption_s,
    phase_of,
)


def test_schedule_from_the_shipped_params_fires_every_fault_once_in_order(params):
    schedule = build_schedule(params["soak"]["faults"], duration_s=1800)
    names = [f.name for f in schedule]
    assert sorted(names) == sorted({"worker_kill", "torchserve_kill", "redis_restart", "token_renewal",
                                    "explanation_flood", "canary_promote", "canary_rollback"})
    assert [f.at_s for f in schedule] == sorted(f.at_s for f in schedule)
    assert 0 < schedule[0].at_s and schedule[-1].at_s < 1800
    assert build_schedule([{"at": 0.5, "fault": "worker_kill"}], 60) == [ScheduledFault("worker_kill", 30.0)]


@pytest.mark.parametrize("faults, message", [
    ([{"at": 0.5, "fault": "reboot_the_box"}], "unknown"),
    ([{"at": 1.2, "fault": "worker_kill"}], r"\(0, 1\)"),
    ([{"at": 0.0, "fault": "worker_kill"}], r"\(0, 1\)"),
    ([{"at": 0.6, "fault": "worker_kill"}, {"at": 0.3, "fault": "redis_restart"}], "order"),
])
def test_bad_schedules_are_refused(faults, message):
    with pytest.raises(ValueError, match=message):
        build_schedule(faults, 600)


def test_phase_is_the_last_fault_fired_before_the_call():
    fired = [ScheduledFault("worker_kill", 10), ScheduledFault("redis_restart", 20)]
    assert [phase_of(t, fired) for t in (0, 9.99, 10, 19.9, 20, 99)] == [
        BASELINE, BASELINE, "worker_kill", "worker_kill", "redis_restart", "redis_restart"]


def call(started, status, latency_ms=10.0, kind="predict", attempts=1):
    return SoakCall(kind, started, started + latency_ms / 1000, status, attempts)


def test_accounting_counts_every_sent_request_and_the_lost_ones():
    fired = [ScheduledFault("worker_kill", 10.0)]
    calls = [call(1, 200, 5), call(2, 200, 15), call(3, 400, kind="bad"), call(11, 200, 30, attempts=2),
             call(12, 503), call(13, None)]
    out = account(calls, sent=7, fired=fired, end_s=20.0)  # one request sent and never recorded: lost too
    t = out["totals"]
    assert (t["sent"], t["answered"], t["answered_2xx"], t["answered_4xx"], t["answered_5xx"]) == (7, 5, 3, 1, 1)
    assert t["lost"] == 2 and t["retried"] == 1
    assert t["by_kind"]["bad"] == {"4xx": 1}
    baseline, kill = out["phases"]
    assert (baseline["phase"], baseline["requests"], baseline["p50_ms"]) == (BASELINE, 3, 10.0)  # the 4xx is not a latency
    assert (kill["phase"], kill["from_s"], kill["to_s"], kill["5xx"], kill["lost"], kill["p95_ms"]) == (
        "worker_kill", 10.0, 20.0, 1, 1, 30.0)


def test_nothing_lost_when_every_sent_request_was_answered():
    calls = [call(i, 200) for i in range(5)]
    assert account(calls, sent=5, fired=[], end_s=5)["totals"]["lost"] == 0


def test_disruption_ends_with_the_last_retried_failed_or_lost_call_of_the_phase():
    fault = ScheduledFault("torchserve_kill", 100.0)
    calls = [call(99, 502), call(101, 200, 1000, attempts=3), call(102, 200), call(104, None, 500),
             call(105, 200, kind="flood", attempts=2), call(106, 200, 3000, kind="explain", attempts=3), call(130, 503)]
    assert disruption_s(calls, fault, until=120.0) == 4.5  # the lost call that started at 104 ended at 104.5
    assert disruption_s([call(101, 200)], fault, until=120.0) == 0.0
    # a call retried through the NEXT fault counts only until that fault fired
    assert disruption_s([call(110, 200, 30_000, attempts=5)], fault, until=120.0) == 20.0


def test_readme_tables_show_the_totals_phases_faults_and_memory():
    report = {
        **account([call(1, 200), call(11, 200)], 2, [ScheduledFault("worker_kill", 10)], 20),
        "faults": [{"fault": "worker_kill", "at_s": 10, "recovery_s": 7.1, "sign": "new worker READY", "disturbed_s": 0.0}],
        "rss_by_role": rss_by_role([{"role": "Redis", "pid": 1, "rss_mb": 10.0}],
                                   [{"role": "Redis", "pid": 2, "rss_mb": 12.5}, {"role": "TorchServe worker", "pid": 3, "rss_mb": 300.0}]),
    }
    text = markdown(report)
    assert "| 2 | 2 | 0 | 0 | **0** | 0 |" in text
    assert "| worker_kill | 10-20 | 1 | 0 |" in text
    assert "| worker_kill | 10 | 7.1 (new worker READY) | 0.0 |" in text
    assert "| Redis | 10 | 12.5 |" in text and "| TorchServe worker | - | 300 |" in text
