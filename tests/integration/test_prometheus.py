"""A real Prometheus (Debian package) with the shipped config and rules scrapes a real TorchServe
on loopback: the handler's intent_* metrics come back through the query API, the shipped rules
load, every metric the serving rules read is one this TorchServe exports, and every dashboard
query runs. Also the image's HEALTHCHECK command against this token-auth TorchServe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from pipeline.config import PROJECT_ROOT
from pipeline.services import free_port, wait_until
from pipeline.services.prometheus import PrometheusServer
from tests.prometheus_helpers import RULES_DIR, alert_rules, dashboard_queries, rule_metric_names

pytestmark = [pytest.mark.integration, pytest.mark.slow]

MODEL = "intent_classifier"


@pytest.fixture(scope="module")
def prometheus(module_torchserve, tmp_path_factory):
    """Prometheus scraping the module's TorchServe every second; stopped whatever the tests did."""
    server = PrometheusServer(port=free_port(), run_dir=tmp_path_factory.mktemp("prometheus"),
                              targets={"torchserve": [f"127.0.0.1:{module_torchserve.metrics_port}"]},
                              scrape_interval="1s")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def traffic(module_torchserve):
    """A few answered prompts and one rejected row, so the handler's counters have samples."""
    url = module_torchserve.inference_url(f"/predictions/{MODEL}")
    for text in ("write a haiku about autumn", "plan a 3 day trip to Rome", ""):
        requests.post(url, json={"text": text}, headers=module_torchserve.headers(), timeout=60)


def test_prometheus_returns_the_handler_metrics_it_scraped(prometheus, traffic):
    wait_until(lambda: prometheus.query(f'intent_rows_rejected{{ModelName="{MODEL}"}}'), timeout=60,
               what="the handler's intent_rows_rejected in Prometheus")
    predictions = prometheus.query(f'sum(intent_predictions{{job="torchserve", ModelName="{MODEL}"}})')
    assert float(predictions[0]["value"][1]) == 2
    rejected = prometheus.query(f'intent_rows_rejected{{ModelName="{MODEL}"}}')
    assert [(r["metric"]["ModelVersion"], float(r["value"][1])) for r in rejected] == [("1", 1.0)]
    p95 = prometheus.query(f'histogram_quantile(0.95, sum by (le) (intent_handler_seconds_bucket{{ModelName="{MODEL}"}}))')
    assert 0 < float(p95[0]["value"][1]) < 60
    assert prometheus.query('up{job="torchserve"}')[0]["value"][1] == "1"


def test_prometheus_loaded_every_shipped_alert(prometheus):
    loaded = {rule["name"] for group in prometheus.api("rules")["groups"] for rule in group["rules"]}
    shipped = {name for path in RULES_DIR.glob("*.yml") for name in alert_rules(path)}
    assert shipped and loaded == shipped


def test_serving_rules_read_metrics_this_torchserve_exports(module_torchserve, traffic):
    text = requests.get(module_torchserve.metrics_url(), timeout=10).text
    exported = set(re.findall(r"^# TYPE (\S+) (\w+)", text, flags=re.M))
    names = {name for name, _ in exported} | {f"{name}_{suffix}" for name, kind in exported if kind == "histogram"
                                               for suffix in ("bucket", "count", "sum")}
    names.add("up")  # Prometheus's own per-target series
    missing = rule_metric_names(RULES_DIR / "serving.yml") - names
    assert not missing, f"serving rules read metrics TorchServe does not export: {missing}"


def test_every_dashboard_query_runs_in_prometheus(prometheus, traffic):
    for query in dashboard_queries():
        prometheus.query(query)  # raises on a query Prometheus refuses


def test_image_healthcheck_pings_a_token_auth_torchserve(module_torchserve):
    # the Dockerfile's HEALTHCHECK, run in TorchServe's work dir (the image's WORKDIR holds key_file.json)
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text().replace("\\\n", "")
    command = re.search(r"^HEALTHCHECK .*? CMD (.+)$", dockerfile, flags=re.M).group(1)
    command = command.replace("127.0.0.1:8080", f"127.0.0.1:{module_torchserve.inference_port}")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["sh", "-c", command], cwd=module_torchserve.run_dir, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
