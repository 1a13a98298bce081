"""The benchmark's results.json as one PNG next to it: latency distribution and throughput per run.

Why a picture: the JSON holds a dozen figures per measure, and what a reader wants to see is
whether the tail stays close to the median and whether repeated runs agree. Left: the latency
percentiles (p50, p95, p99; mean dashed) of every latency measure the run holds (c=1 served,
cache hits, the Python client at c=16). Right: prompts/s of each repeated run (dots) and the
reported median (bar) for the served, in-process and naive figures.
"""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter

from pipeline.evaluation.plots import save_figure

PERCENTILES = ("p50_ms", "p95_ms", "p99_ms")


def latency_series(results: dict) -> dict[str, dict]:
    """Served measures with latency percentiles, named for the legend."""
    served = results.get("served", {})
    names = {"latency_c1": "served c=1", "cache_hit_c1": "cache hit c=1"}
    names |= {key: f"Python client c={key.split('_')[1][1:]}" for key in served
              if key.startswith("throughput_c") and key.endswith("_python_client")}
    return {label: served[key] for key, label in names.items() if key in served and "p50_ms" in served[key]}


def throughput_series(results: dict) -> dict[str, tuple[float, list[float]]]:
    """label -> (reported prompts/s, every run's prompts/s) for each throughput figure present."""
    served = results.get("served", {})
    out = {}
    for key, value in served.items():
        if key.startswith("throughput_c") and "prompts_per_s" in value:
            client = "Python client" if key.endswith("_python_client") else "wrk"
            out[f"served c={key.split('_')[1][1:]} ({client})"] = value
    for key, label in (("raw_in_process", "raw in-process"), ("raw_in_process_at_served_batch", "raw at served batch"),
                       ("naive_pipeline", "naive pipeline")):
        if key in results:
            out[label] = results[key]
    return {label: (v["prompts_per_s"], list(v.get("runs_prompts_per_s") or [v["prompts_per_s"]]))
            for label, v in out.items()}


def plot_bench(results: dict, path: Path) -> Path:
    """Write the two-panel PNG to path; returns path."""
    fig = Figure(figsize=(14, 5.5), layout="constrained")
    lat, tput = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})
    for i, (label, m) in enumerate(latency_series(results).items()):
        xs = range(len(PERCENTILES))
        color = f"C{i}"
        lat.plot(xs, [m[p] for p in PERCENTILES], marker="o", color=color, label=f"{label} (n={m.get('n', '?')})")
        if "mean_ms" in m:
            lat.axhline(m["mean_ms"], color=color, linestyle="--", linewidth=0.8)
        for x, p in zip(xs, PERCENTILES, strict=True):
            lat.annotate(f"{m[p]:g}", (x, m[p]), textcoords="offset points", xytext=(4, 4), fontsize=8, color=color)
    lat.set_xticks(range(len(PERCENTILES)), [p.split("_")[0] for p in PERCENTILES])
    lat.set_yscale("log")
    lat.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    lat.yaxis.set_major_formatter(ScalarFormatter())
    lat.yaxis.set_minor_formatter(NullFormatter())
    lat.set_ylabel("latency (ms, log scale)")
    lat.set_title("Latency percentiles (dashed: mean)")
    lat.grid(True, which="both", alpha=0.3)
    lat.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2)

    series = throughput_series(results)
    labels = list(series)
    tput.barh(labels, [series[k][0] for k in labels], color="C0", alpha=0.35, label="reported (median run)")
    for y, label in enumerate(labels):
        runs = series[label][1]
        tput.scatter(runs, [y] * len(runs), color="C3", s=18, zorder=3, label="each run" if y == 0 else None)
        tput.annotate(f"{series[label][0]:g}", (max([series[label][0], *runs]), y), textcoords="offset points",
                      xytext=(8, -3), fontsize=8)
    tput.invert_yaxis()
    tput.set_xlabel("prompts/s")
    tput.set_xlim(0, 1.12 * max(max([v[0], *v[1]]) for v in series.values()))
    tput.set_title("Throughput per run")
    tput.grid(True, axis="x", alpha=0.3)
    tput.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    machine = results.get("machine", {})
    fig.suptitle(f"make bench: {results.get('archive', '?')} on {machine.get('cores', '?')} x {machine.get('cpu', '?')} "
                 f"(load {machine.get('load_average_1m', '?')})")
    return save_figure(fig, path)
