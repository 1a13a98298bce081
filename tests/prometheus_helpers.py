"""The shipped Prometheus config (serve_config/prometheus/) for tests: where it is, what its alert rules read.

Tests compare the metric names the rules read with what TorchServe, the handler and the
project's gauge writers really export, so a renamed metric cannot leave an alert that never fires.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT

PROMETHEUS_DIR = PROJECT_ROOT / "serve_config" / "prometheus"
RULES_DIR = PROMETHEUS_DIR / "rules"

_STRINGS_AND_MATCHERS = re.compile(r'"[^"]*"|\{[^}]*\}|\[[^\]]*\]')
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.])([a-zA-Z_:][\w:]*)(?!\w)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "inf", "nan"}


def alert_rules(rule_file: Path) -> dict[str, dict]:
    """{alert name: rule} of every group in a rule file."""
    groups = yaml.safe_load(rule_file.read_text(encoding="utf-8"))["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"] if "alert" in rule}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (label lists, matchers, ranges, functions removed)."""
    text = _LABEL_LISTS.sub(" ", _STRINGS_AND_MATCHERS.sub(" ", expr))
    return {name for name, call in _IDENTIFIER.findall(text) if not call and name.lower() not in _KEYWORDS}


def rule_metric_names(rule_file: Path) -> set[str]:
    return {name for rule in alert_rules(rule_file).values() for name in metric_names(rule["expr"])}


DASHBOARD = PROMETHEUS_DIR / "grafana-dashboard.json"


def dashboard_queries(values: dict[str, str] | None = None) -> list[str]:
    """Every panel's PromQL, with dashboard variables ($model ...) replaced by `values` (default: match all)."""
    import json

    panels = json.loads(DASHBOARD.read_text(encoding="utf-8"))["panels"]
    exprs = [target["expr"] for panel in panels for target in panel["targets"]]
    values = values or {"model": ".*"}
    return [re.sub(r"\$(\w+)", lambda m: values[m.group(1)], expr) for expr in exprs]
