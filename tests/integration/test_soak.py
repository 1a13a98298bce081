"""A one-minute `make soak` (every fault of the schedule, short holds), tiny model, its own
supervised stack on free ports: no request lost, every fault recovered, the canaries end as planned
(v2 promoted, v3 with rotated labels rolled back), every server stopped afterwards."""

from __future__ import annotations

import copy
import json

import pytest

from pipeline.reliability.soak import SoakOptions, run_soak
from pipeline.services import port_open
from pipeline.services.nginx import STATE_FILE

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_one_minute_soak_loses_no_request(params, tmp_path):
    p = copy.deepcopy(params)
    p["soak"].update(flood_seconds=5, redis_outage_seconds=1)
    p["soak"]["rollout"].update(hold_seconds=3, check_interval_seconds=1, drain_seconds=1)
    p["rollout"]["probe"].update(max_rows=40, concurrency=2)
    options = SoakOptions(minutes=1, work_dir=tmp_path / "work", output=tmp_path / "soak.json", plot=tmp_path / "soak.png")

    report = run_soak(p, options)
    print("\n[soak smoke] " + json.dumps({"totals": report["totals"], "faults": report["faults"]}, default=str))

    totals = report["totals"]
    assert totals["sent"] > 0 and totals["lost"] == 0
    assert totals["answered"] == totals["sent"]
    assert [f for f in report["faults"] if "error" in f] == []
    outcome = {f["fault"]: f for f in report["faults"]}
    assert len(outcome) == len(p["soak"]["faults"])
    assert outcome["canary_promote"]["status"] == "promoted"
    assert outcome["canary_rollback"]["status"] == "rolled_back"
    assert outcome["torchserve_kill"]["default_after"] == outcome["torchserve_kill"]["default_before"] == "2"
    assert outcome["token_renewal"]["renewed"] == ["inference", "management"]
    assert report["ok"] is True
    assert options.plot.stat().st_size > 0
    assert {r["role"] for r in report["rss_start"]} >= {"TorchServe JVM", "TorchServe worker", "Redis", "nginx master",
                                                        "token renewer", "supervisord"}
    # everything stopped: supervisord gone, the proxy's port closed
    stack_dir = options.work_dir / "stack"
    assert not (stack_dir / "supervisord.pid").exists()
    ts_state = json.loads((stack_dir / "torchserve" / "server.json").read_text())
    proxy_state = json.loads((stack_dir / "nginx" / STATE_FILE).read_text())
    ports = [ts_state["inference_port"], ts_state["management_port"], proxy_state["listen_port"]]
    assert not any(port_open(port) for port in ports), ports
