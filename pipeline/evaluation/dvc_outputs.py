"""The evaluation's figures in the shapes DVC reads: one small metrics file and data plots.

Why not metrics.json itself: it holds confusion matrices, per-class tables and latency, which
`dvc metrics show` would flatten into hundreds of columns. Here each evaluated set (the template
test split and the hand-written realistic sets) keeps the headline figures, and the plots are the rows
DVC's own templates draw: `confusion/<set>.csv` (actual, predicted per row), `reliability/<set>.csv`
(mean confidence vs accuracy per bin) and `per_intent_f1/<set>.csv`. dvc.yaml's evaluate stage
declares the three folders, so `dvc plots show` / `dvc plots diff` draw every set.

    <eval_dir>/dvc/metrics.json   {"test": {"accuracy", "f1_weighted", "f1_macro", "ece", "ece_uncalibrated"}, ...}
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

from pipeline.evaluation import metrics as M

DVC_DIR = "dvc"
HEADLINE = ("accuracy", "f1_weighted", "f1_macro", "ece")


def dvc_metrics(datasets: dict) -> dict[str, dict[str, float]]:
    """The headline figures of each set (ECE before calibration too: what the temperature bought)."""
    return {
        name: {**{key: round(float(d["metrics"][key]), 6) for key in HEADLINE},
               "ece_uncalibrated": round(float(d["uncalibrated"]["ece"]), 6)}
        for name, d in datasets.items()
    }


def _write_csv(path: Path, header: list[str], rows: list[list]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def write_dvc_outputs(datasets: dict, labels: list[str], ece_bins: int, out: Path) -> Path:
    """Write <out>/dvc/{metrics.json, confusion/, reliability/, per_intent_f1/}; returns <out>/dvc.

    `datasets` are evaluate_set results still holding their `_arrays` (labels y, calibrated probs).
    """
    root = out / DVC_DIR
    root.mkdir(parents=True, exist_ok=True)
    (root / "metrics.json").write_text(json.dumps(dvc_metrics(datasets), indent=2) + "\n", encoding="utf-8")
    for name, d in datasets.items():
        y, probs = d["_arrays"]["y"], d["_arrays"]["probs"]
        _write_csv(root / "confusion" / f"{name}.csv", ["actual", "predicted"],
                   [[labels[int(a)], labels[int(p)]] for a, p in zip(y, probs.argmax(axis=1), strict=True)])
        bins = [b for b in M.reliability_bins(y, probs, ece_bins) if b["count"] and not math.isnan(b["confidence"])]
        _write_csv(root / "reliability" / f"{name}.csv", ["confidence", "accuracy", "count"],
                   [[round(b["confidence"], 6), round(b["accuracy"], 6), b["count"]] for b in bins])
        _write_csv(root / "per_intent_f1" / f"{name}.csv", ["intent", "f1"],
                   [[label, round(float(d["metrics"]["per_class"][label]["f1"]), 6)] for label in labels])
    return root
