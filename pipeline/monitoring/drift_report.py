"""Drift report outputs: Markdown and a self-contained HTML page for people, PNG for a glance,
Prometheus gauges for alerting.

The gauges go to a node_exporter textfile (`drift.prom`): a cron'd `make drift` plus the
textfile collector turns each run into scrapeable metrics with no server of our own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from pipeline.evaluation.documents import Block, write_documents
from pipeline.monitoring.drift import Snapshot

GAUGE_PREFIX = "intent_drift"


def _flag(value: bool) -> str:
    return "**DRIFT**" if value else "ok"


def drift_blocks(report: dict[str, Any], png_name: str | None = None) -> list[Block]:
    """The report as blocks, rendered as Markdown and as a self-contained HTML page."""
    th = report["thresholds"]
    blocks = [
        Block("h", "Drift report", level=1),
        Block("table", headers=["item", "value"], rows=[
            ["Generated", str(report.get("generated", ""))],
            ["Model version (log window)", str(report.get("model_version"))],
            ["Reference", f"{report.get('reference_source', '')} ({report['n_reference']} rows)"],
            ["Current window", f"{report['n_current']} logged predictions"],
            ["Verdict", f"data drift {_flag(report['data_drift'])}, output drift {_flag(report['output_drift'])}"],
        ]),
        Block("p", f"A check alarms when the shift is significant (KS p < {report['ks_alpha_corrected']:.2g} = "
                   f"{th['ks_alpha']} / number of KS tests; chi-square p < {th['chi2_alpha']}) and material "
                   f"(PSI >= {th['psi']}; JS distance >= {th['js_distance']})."),
        Block("h", "Numeric distributions"),
        Block("table", headers=["column", "kind", "PSI", "KS statistic", "KS p-value", "mean (ref -> cur)", "verdict"],
              rows=[[c["name"], c["kind"], f"{c['psi']:.3f}", f"{c['ks_statistic']:.3f}", f"{c['ks_pvalue']:.2g}",
                     f"{c['reference_mean']:.3g} -> {c['current_mean']:.3g}", _flag(c["drift"])]
                    for c in report["numeric"]]),
    ]
    it = report["intent"]
    blocks += [
        Block("h", "Predicted-intent distribution"),
        Block("p", f"chi-square {it['chi2']:.1f} (p = {it['chi2_pvalue']:.2g}), Jensen-Shannon distance "
                   f"{it['js_distance']:.3f}: {_flag(it['drift'])}"),
        Block("table", headers=["intent", "reference share", "current share"],
              rows=[[name, f"{ref:.3f}", f"{it['current_share'][name]:.3f}"] for name, ref in it["reference_share"].items()]),
    ]
    if png_name:
        blocks.append(Block("img", png_name, headers=["distributions"]))
    return blocks


def write_documents_of(report: dict[str, Any], out_dir: Path, stem: str = "drift_report",
                       png_name: str | None = None) -> tuple[Path, Path]:
    """<stem>.md and the self-contained <stem>.html (the PNG must exist: the HTML embeds it)."""
    return write_documents(drift_blocks(report, png_name), out_dir, stem, "Drift report")


def plot_png(reference: Snapshot, current: Snapshot, report: dict[str, Any], path: Path) -> Path:
    """Histograms of each numeric column (reference vs current) and the intent shares."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = list(report["numeric"])
    n_panels = len(columns) + 1
    ncols = 4
    nrows = int(np.ceil(n_panels / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(4 * ncols, 3 * nrows), squeeze=False)
    for ax, c in zip(axes.flat, columns, strict=False):
        ref, cur = reference.numeric[c["name"]], current.numeric[c["name"]]
        lo, hi = float(min(ref.min(), cur.min())), float(max(ref.max(), cur.max()))
        integral = np.all(np.mod(ref, 1) == 0) and np.all(np.mod(cur, 1) == 0) and hi - lo <= 60
        bins = np.arange(lo - 0.5, hi + 1.5) if integral else np.linspace(lo, hi if hi > lo else lo + 1, 30)
        ax.hist(ref, bins=bins, density=True, alpha=0.5, label="reference")
        ax.hist(cur, bins=bins, density=True, alpha=0.5, label="current")
        ax.set_title(f"{c['name']}\nPSI {c['psi']:.2f}  KS p {c['ks_pvalue']:.1g}", fontsize=9,
                     color="red" if c["drift"] else "black")
        ax.tick_params(labelsize=7)
    ax = axes.flat[len(columns)]
    it = report["intent"]
    names = list(it["reference_share"])
    x = np.arange(len(names))
    ax.bar(x - 0.2, [it["reference_share"][n] for n in names], 0.4, label="reference")
    ax.bar(x + 0.2, [it["current_share"][n] for n in names], 0.4, label="current")
    ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
    ax.set_title(f"predicted intent\nJS {it['js_distance']:.2f}  chi2 p {it['chi2_pvalue']:.1g}", fontsize=9,
                 color="red" if it["drift"] else "black")
    ax.legend(fontsize=7)
    for ax in list(axes.flat)[n_panels:]:
        ax.axis("off")
    fig.suptitle(f"Drift: reference {report['n_reference']} rows vs current {report['n_current']} predictions")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_prometheus(report: dict[str, Any], path: Path) -> Path:
    """Gauges in the Prometheus text format (node_exporter textfile collector)."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()
    version = str(report.get("model_version"))
    g_psi = Gauge(f"{GAUGE_PREFIX}_psi", "Population stability index vs the training reference",
                  ["column", "model_version"], registry=registry)
    g_ks = Gauge(f"{GAUGE_PREFIX}_ks_pvalue", "Two-sample KS p-value vs the training reference",
                 ["column", "model_version"], registry=registry)
    g_col = Gauge(f"{GAUGE_PREFIX}_column_alarm", "1 when the column drifted", ["column", "model_version"],
                  registry=registry)
    for c in report["numeric"]:
        g_psi.labels(c["name"], version).set(c["psi"])
        g_ks.labels(c["name"], version).set(c["ks_pvalue"])
        g_col.labels(c["name"], version).set(int(c["drift"]))
    it = report["intent"]
    Gauge(f"{GAUGE_PREFIX}_intent_js_distance", "JS distance of predicted-intent shares", ["model_version"],
          registry=registry).labels(version).set(it["js_distance"])
    Gauge(f"{GAUGE_PREFIX}_intent_chi2_pvalue", "Chi-square p-value of predicted-intent counts", ["model_version"],
          registry=registry).labels(version).set(it["chi2_pvalue"])
    alarm = Gauge(f"{GAUGE_PREFIX}_alarm", "1 when drift is detected", ["check", "model_version"], registry=registry)
    alarm.labels("data", version).set(int(report["data_drift"]))
    alarm.labels("output", version).set(int(report["output_drift"]))
    Gauge(f"{GAUGE_PREFIX}_window_records", "Logged predictions in the compared window", ["model_version"],
          registry=registry).labels(version).set(report["n_current"])
    Gauge(f"{GAUGE_PREFIX}_last_run_timestamp_seconds", "When the drift report ran", registry=registry).set_to_current_time()
    write_to_textfile(str(path), registry)
    return path


def run_drift_report(
    params: dict[str, Any],
    log_path: Path,
    model_dir: Path,
    out_dir: Path,
    *,
    reference_data: Path,
    model_version: str | None = None,
    rebuild_reference: bool = False,
) -> dict[str, Any]:
    """Compare the newest logged predictions with the reference; write md, HTML, PNG and gauges.

    Returns the report; `report["status"]` is "not_enough_data" when the window holds fewer
    than monitor.min_records records (no comparison, no alarm).
    """
    import datetime as dt
    import json

    from model_src.features import FEATURE_NAMES
    from model_src.prediction_log import read_prediction_log
    from pipeline.monitoring.drift import (
        Thresholds,
        compare,
        load_or_build_reference,
        select_window,
        snapshot_from_log,
    )

    cfg = params["monitor"]
    out_dir.mkdir(parents=True, exist_ok=True)
    window, version = select_window(read_prediction_log(log_path), int(cfg["window_max_records"]), model_version)
    base = {"generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "model_version": version,
            "log": str(log_path)}
    if len(window) < int(cfg["min_records"]):
        report = {**base, "status": "not_enough_data", "n_current": len(window), "min_records": int(cfg["min_records"])}
        (out_dir / "drift_report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
        return report
    reference = load_or_build_reference(out_dir / "reference.json", reference_data, model_dir, params, rebuild_reference)
    current = snapshot_from_log(window, FEATURE_NAMES)
    report = {**base, "status": "ok", "reference_source": reference.meta.get("data", ""),
              **compare(reference, current, params["intents"], Thresholds.from_params(params))}
    report["png"] = str(plot_png(reference, current, report, out_dir / "drift_report.png"))
    markdown, page = write_documents_of(report, out_dir, "drift_report", "drift_report.png")
    report["markdown"], report["html"] = str(markdown), str(page)
    report["prometheus"] = str(write_prometheus(report, out_dir / "drift.prom"))
    (out_dir / "drift_report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report
