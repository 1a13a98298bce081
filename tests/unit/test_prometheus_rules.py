"""The shipped Prometheus config and alert rules, checked by Debian's promtool (package prometheus):
the config and rules parse, every rule group's test file passes (series that must and must not
fire), and the metrics the rules read are the ones the project's gauge writers export."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from pipeline.monitoring.drift_report import write_prometheus
from pipeline.monitoring.feedback import write_feedback_report
from pipeline.monitoring.token_expiry import write_token_gauges
from tests.prometheus_helpers import (
    DASHBOARD,
    PROMETHEUS_DIR,
    RULES_DIR,
    alert_rules,
    dashboard_queries,
    metric_names,
    rule_metric_names,
)

RULE_FILES = sorted(RULES_DIR.glob("*.yml"))


def promtool(*args: str) -> subprocess.CompletedProcess:
    binary = shutil.which("promtool")
    assert binary, "promtool not found: run `make system-deps` (Debian package prometheus)"
    return subprocess.run([binary, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, timeout=60)


def test_config_and_rule_files_parse():
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    # check config loads rule_files too: every rule file is one it found
    assert f"{len(RULE_FILES)} rule files found" in result.stdout
    result = promtool("check", "rules", *[str(p.relative_to(PROMETHEUS_DIR)) for p in RULE_FILES])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("rule_file", RULE_FILES, ids=lambda p: p.stem)
def test_each_rule_group_has_a_passing_test_of_every_alert(rule_file):
    test_file = PROMETHEUS_DIR / "tests" / f"{rule_file.stem}_test.yml"
    assert test_file.is_file(), f"{rule_file.name} needs {test_file.name}"
    tested = set(re.findall(r"alertname:\s*(\w+)", test_file.read_text()))
    assert set(alert_rules(rule_file)) <= tested, f"alerts without a test: {set(alert_rules(rule_file)) - tested}"
    result = promtool("test", "rules", str(test_file.relative_to(PROMETHEUS_DIR)))
    assert result.returncode == 0, result.stdout + result.stderr


def test_psi_alert_threshold_is_params_monitor_threshold(params):
    expr = alert_rules(RULES_DIR / "model.yml")["IntentDriftPSIHigh"]["expr"]
    threshold = float(re.search(r">=\s*([\d.]+)", expr).group(1))
    assert threshold == params["monitor"]["thresholds"]["psi"]


def test_metric_names_ignore_labels_functions_and_ranges():
    expr = 'sum by (instance, le) (rate(a_total{job="x"}[5m])) / on (instance) b and c > 2 * 3600'
    assert metric_names(expr) == {"a_total", "b", "c"}


def exported_names(prom_text: str) -> set[str]:
    return set(re.findall(r"^# TYPE (\S+)", prom_text, flags=re.M))


def test_model_and_token_alerts_read_gauges_the_project_writes(tmp_path):
    report = {"model_version": "3", "numeric": [{"name": "prompt_length", "psi": 0.3, "ks_pvalue": 0.01, "drift": True}],
              "intent": {"js_distance": 0.05, "chi2_pvalue": 0.5}, "data_drift": True, "output_drift": False,
              "n_current": 500}
    write_prometheus(report, tmp_path / "drift.prom")
    (tmp_path / "feedback").mkdir()
    accuracy = {"3": {"n": 2, "accuracy": 0.5, "ci95": [0.1, 0.9], "window": 200, "window_n": 2, "window_accuracy": 0.5,
                      "window_ci95": [0.1, 0.9], "rolling": [1.0, 0.5]}}
    write_feedback_report(accuracy, None, [], tmp_path / "feedback")
    key_file = tmp_path / "key_file.json"
    key_file.write_text('{"inference": {"key": "k", "expiration time": "2026-12-04T15:37:19.263006872Z"}}')
    write_token_gauges(key_file, tmp_path / "tokens.prom")
    written = set()
    for path in (tmp_path / "drift.prom", tmp_path / "feedback" / "feedback.prom", tmp_path / "tokens.prom"):
        written |= exported_names(path.read_text())
    assert rule_metric_names(RULES_DIR / "model.yml") | rule_metric_names(RULES_DIR / "tokens.yml") <= written


def test_token_expiry_comes_from_the_key_file_and_the_script_reports_a_missing_one(tmp_path, capsys):
    from scripts.token_metrics import main

    key_file = tmp_path / "key_file.json"
    key_file.write_text('{"management": {"key": "m", "expiration time": "2026-12-04T15:37:19.263023788Z"},'
                        ' "inference": {"key": "i", "expiration time": "2026-12-04T15:37:19Z"}, "API": {"key": "a"}}')
    out = tmp_path / "tokens.prom"
    assert main(["--key-file", str(key_file), "--output", str(out)]) == 0
    text = out.read_text()
    assert 'torchserve_token_expiry_timestamp_seconds{api="inference"} 1.796398639e+09' in text
    assert 'api="management"' in text and 'api="API"' not in text  # the API key never expires
    assert main(["--key-file", str(tmp_path / "missing.json"), "--output", str(out)]) == 2
    key_file.write_text('{"API": {"key": "a"}}')
    assert main(["--key-file", str(key_file), "--output", str(out)]) == 2
    assert "no token with an 'expiration time'" in capsys.readouterr().err


def test_dashboard_panels_read_metrics_torchserve_the_handler_or_the_rules_know():
    import json

    import ts

    from handlers import intent_handler

    dashboard = json.loads(DASHBOARD.read_text())
    assert all(panel["targets"] and panel["datasource"]["uid"] == "${datasource}" for panel in dashboard["panels"])
    torchserve = set(re.findall(r"name: (\w+)", (Path(ts.__file__).parent / "configs" / "metrics.yaml").read_text()))
    handler = set(re.findall(r'add\("(intent_\w+)"', Path(intent_handler.__file__).read_text()))
    histograms = {f"{name}_{suffix}" for name in handler for suffix in ("bucket", "sum", "count")}
    rules = set().union(*(rule_metric_names(path) for path in RULE_FILES))
    used = set().union(*(metric_names(expr) for expr in dashboard_queries()))
    assert used <= torchserve | handler | histograms | rules, f"unknown metrics: {used - (torchserve | handler | histograms | rules)}"


def test_rendered_config_points_at_other_targets_and_still_checks(tmp_path):
    import yaml

    from pipeline.services.prometheus import render_config

    out = render_config(tmp_path / "prometheus.yml", {"torchserve": ["127.0.0.1:18082"]}, scrape_interval="1s")
    config = yaml.safe_load(out.read_text())
    jobs = {job["job_name"]: job["static_configs"][0]["targets"] for job in config["scrape_configs"]}
    assert jobs == {"torchserve": ["127.0.0.1:18082"], "textfile": ["127.0.0.1:9100"]}
    assert config["global"]["scrape_interval"] == "1s"
    result = promtool("check", "config", str(out))  # the absolute rule paths resolve from anywhere
    assert result.returncode == 0 and f"{len(RULE_FILES)} rule files found" in result.stdout, result.stdout + result.stderr
    with pytest.raises(KeyError, match="no scrape job 'tritonserver'"):
        render_config(tmp_path / "bad.yml", {"tritonserver": ["127.0.0.1:1"]})
