"""Evaluation plots as PNG files, headless.

Uses matplotlib's object API (`Figure` + Agg canvas) instead of pyplot: no global state, no
display needed, nothing to close. Every function takes arrays, writes one PNG and returns its
path; `bbox_inches="tight"` keeps long intent names inside the image.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from sklearn.metrics import auc as sk_auc
from sklearn.metrics import roc_curve

DPI = 110


def save_figure(fig: Figure, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    return path


def confusion_matrix_plot(cm, labels: list[str], path, title: str = "Confusion matrix") -> Path:
    """Row-normalised confusion matrix (each true intent's row sums to 1), counts in the cells."""
    cm = np.asarray(cm, dtype=float)
    totals = cm.sum(axis=1, keepdims=True)
    norm = np.divide(cm, totals, out=np.zeros_like(cm), where=totals > 0)
    n = len(labels)
    size = max(6.0, 0.62 * n + 2.5)
    fig = Figure(figsize=(size + 1.2, size))
    ax = fig.add_subplot()
    im = ax.imshow(norm, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label="share of the true intent's rows")
    ax.set_xticks(range(n), labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), labels)
    ax.set_xlabel("predicted intent")
    ax.set_ylabel("true intent")
    ax.set_title(title)
    for i in range(n):
        for j in range(n):
            if cm[i, j]:
                ax.text(
                    j,
                    i,
                    f"{norm[i, j]:.2f}\n({int(cm[i, j])})",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black",
                )
    return save_figure(fig, path)


def roc_curves_plot(y_true, probs, labels: list[str], path, title: str = "ROC one-vs-rest") -> Path:
    """One ROC curve per intent (one-vs-rest) with its AUC in the legend; absent intents skipped."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    fig = Figure(figsize=(8.5, 6.5))
    ax = fig.add_subplot()
    colours = _colours(len(labels))
    for c, label in enumerate(labels):
        pos = y_true == c
        if pos.all() or not pos.any():
            continue
        fpr, tpr, _ = roc_curve(pos, probs[:, c])
        auc = float(sk_auc(fpr, tpr))
        ax.plot(fpr, tpr, color=colours[c], lw=1.5, label=f"{label} (AUC {auc:.3f})")
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="chance")
    ax.set_xlim(-0.01, 1.0)
    ax.set_ylim(0.0, 1.01)
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title(title)
    ax.legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def reliability_diagram(
    curves: dict[str, list[dict]], path, title: str = "Reliability diagram (top-label confidence)"
) -> Path:
    """Accuracy vs confidence per bin for one or more probability sets (e.g. before/after T).

    curves maps a legend label (which should carry its ECE) to `metrics.reliability_bins` output.
    Marker size grows with the bin's row count, so a bin holding two rows does not look like a trend.
    """
    fig = Figure(figsize=(6.8, 6.2))
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", ls="--", lw=1, label="perfect calibration")
    colours = ["tab:red", "tab:blue", "tab:green", "tab:purple"]
    for k, (name, bins) in enumerate(curves.items()):
        filled = [b for b in bins if b["count"]]
        if not filled:
            continue
        total = sum(b["count"] for b in filled)
        conf = [b["confidence"] for b in filled]
        acc = [b["accuracy"] for b in filled]
        sizes = [20 + 400 * b["count"] / total for b in filled]
        colour = colours[k % len(colours)]
        ax.plot(conf, acc, color=colour, lw=1.2, label=name)
        ax.scatter(conf, acc, s=sizes, color=colour, alpha=0.6, edgecolors="none")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("mean confidence in bin")
    ax.set_ylabel("accuracy in bin")
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    return save_figure(fig, path)


def confidence_histogram(y_true, probs, path, title: str = "Confidence: correct vs wrong") -> Path:
    """Histogram of top-label confidence, correct and wrong predictions overlaid."""
    y_true = np.asarray(y_true, dtype=int)
    probs = np.asarray(probs, dtype=float)
    conf = probs.max(axis=1)
    correct = probs.argmax(axis=1) == y_true
    bins = np.linspace(0, 1, 21)
    fig = Figure(figsize=(7.5, 4.8))
    ax = fig.add_subplot()
    ax.hist(conf[correct], bins=bins, color="tab:green", alpha=0.6, label=f"correct ({int(correct.sum())})")
    ax.hist(conf[~correct], bins=bins, color="tab:red", alpha=0.7, label=f"wrong ({int((~correct).sum())})")
    ax.set_xlabel("top-label confidence")
    ax.set_ylabel("rows")
    ax.set_title(title)
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3, axis="y")
    return save_figure(fig, path)


def per_class_f1_plot(per_class_by_set: dict[str, dict[str, dict]], labels: list[str], path) -> Path:
    """Horizontal grouped bars: F1 per intent for each evaluation set (template test, realistic ...)."""
    names = list(per_class_by_set)
    n_sets = max(1, len(names))
    height = 0.8 / n_sets
    fig = Figure(figsize=(8.5, max(4.5, 0.32 * len(labels) * n_sets + 1.8)))
    ax = fig.add_subplot()
    y = np.arange(len(labels))
    colours = ["tab:blue", "tab:orange", "tab:green", "tab:purple"]
    for k, name in enumerate(names):
        f1 = [per_class_by_set[name].get(lbl, {}).get("f1", 0.0) for lbl in labels]
        offset = (k - (n_sets - 1) / 2) * height
        bars = ax.barh(y + offset, f1, height=height, color=colours[k % len(colours)], label=name)
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in f1], padding=2, fontsize=7)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("F1")
    ax.set_title("F1 per intent")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8, frameon=False)
    ax.grid(alpha=0.3, axis="x")
    return save_figure(fig, path)


def _colours(n: int) -> list:
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n <= 10 else "tab20"]
    return [cmap(i % cmap.N) for i in range(n)]
