"""Figures `make bench` adds beside the headline ones: the saturation curve (+ its PNG), the histogram
of requests per forward pass, and where the time of one request at c=1 goes."""

from __future__ import annotations

import re
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

SATURATION_LEVELS = (1, 2, 4, 8, 16, 32, 64)


def status_load(post, texts: list[str], concurrency: int) -> dict:
    """Every text once at `concurrency`: prompts/s, p50/p95 ms, and the count of each non-200 status
    (503: TorchServe's job queue was full)."""
    latencies, statuses = [], Counter()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for status, elapsed, _ in pool.map(post, texts):
            latencies.append(elapsed)
            statuses[status] += 1
    wall = time.perf_counter() - start
    ms = np.asarray(latencies) * 1000
    return {"concurrency": concurrency, "prompts_per_s": round(len(texts) / wall, 1),
            "answered_per_s": round(statuses[200] / wall, 1),  # what counts: a 503 is answered fast, not served
            "requests": len(texts),
            "p50_ms": round(float(np.percentile(ms, 50)), 2), "p95_ms": round(float(np.percentile(ms, 95)), 2),
            "errors": sum(n for s, n in statuses.items() if s != 200),
            "statuses": {str(s): n for s, n in sorted(statuses.items()) if s != 200}}


def saturation_curve(post, texts: list[str], levels=SATURATION_LEVELS, per_level: int = 600, flush=None) -> list[dict]:
    """status_load at each concurrency on `per_level` prompts (cache flushed before each when given)."""
    curve = []
    for level in levels:
        if flush is not None:
            flush()
        curve.append(status_load(post, texts[:per_level], level))
    return curve


def plot_saturation(curves: dict[str, list[dict]], out: Path) -> Path:
    """Throughput and p50/p95 against concurrency, one line per server (e.g. TorchServe, peer)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (tput, lat) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, curve in curves.items():
        c = [p["concurrency"] for p in curve]
        tput.plot(c, [p["answered_per_s"] for p in curve], marker="o", label=name)
        lat.plot(c, [p["p50_ms"] for p in curve], marker="o", label=f"{name} p50")
        lat.plot(c, [p["p95_ms"] for p in curve], marker="x", linestyle="--", label=f"{name} p95")
        for p in curve:
            if p["errors"]:
                tput.annotate(f"{p['errors']} of {per_level(curve)} refused", (p["concurrency"], p["answered_per_s"]), fontsize=7)
    for ax in (tput, lat):
        ax.set_xscale("log", base=2)
        ax.set_xticks(list(SATURATION_LEVELS), [str(x) for x in SATURATION_LEVELS])
        ax.set_xlabel("concurrent clients")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    tput.set_ylabel("answered prompts/s (status 200)")
    lat.set_ylabel("latency (ms)")
    lat.set_yscale("log")
    fig.suptitle("Saturation: every prompt once per level (make bench)")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def per_level(curve: list[dict]) -> str:
    return str(curve[0].get("requests", "the"))


def histogram_buckets(metrics_text: str, name: str) -> dict[str, float]:
    """Cumulative bucket counts {le: count} of a Prometheus histogram, summed over label sets."""
    buckets: Counter = Counter()
    for le, value in re.findall(rf'^{name}_bucket{{[^}}]*le="([^"]+)"[^}}]*}} (\S+)$', metrics_text, re.M):
        buckets[le] += float(value)
    return dict(sorted(buckets.items(), key=lambda kv: float(kv[0])))


def bucket_difference(after: dict[str, float], before: dict[str, float]) -> dict[str, int]:
    """Per-bucket (not cumulative) counts between two scrapes: {"<=1": n, "1-2.5": n, ..., ">10": n}."""
    out, previous_le, previous_count = {}, None, 0.0
    for le in after:
        cumulative = after[le] - before.get(le, 0.0)
        label = f"<={le}" if previous_le is None else (f">{previous_le}" if le == "+Inf" else f"{previous_le}-{le}")
        out[label] = int(round(cumulative - previous_count))
        previous_le, previous_count = le, cumulative
    return out


def counter_total(metrics_text: str, name: str) -> float:
    """Sum of a Prometheus counter/gauge over its label sets."""
    return sum(float(v) for v in re.findall(rf"^{name}(?:{{[^}}]*}})? (\S+)$", metrics_text, re.M))
