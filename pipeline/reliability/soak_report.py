"""What a soak run writes: the latency-over-time PNG with the fault markers, and the Markdown tables
the README's reliability section shows (printed at the end of `make soak`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from pipeline.reliability.soak_schedule import SoakCall, status_class

COLOURS = {"2xx": "tab:blue", "4xx": "tab:orange", "5xx": "tab:red", "lost": "black"}


def plot(calls: Sequence[SoakCall], faults: Sequence[dict], out: Path, title: str) -> Path:
    """Every request's latency (log scale) against its start time, one colour per status class,
    explanation floods in grey, a dashed line and a label at each fault."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(14, 6))
    groups: dict[str, tuple[list, list]] = defaultdict(lambda: ([], []))
    for c in calls:
        key = "flood (explanations)" if c.kind == "flood" else status_class(c.status)
        groups[key][0].append(c.started / 60)
        groups[key][1].append(max(c.latency_ms, 0.1))
    for key, (x, y) in sorted(groups.items()):
        ax.scatter(x, y, s=3, alpha=0.4, label=f"{key} ({len(x)})", color=COLOURS.get(key, "tab:gray"), rasterized=True)
    ax.set_yscale("log")
    top = max((c.latency_ms for c in calls), default=1000)
    for i, fault in enumerate(faults):
        x = fault["at_s"] / 60
        ax.axvline(x, color="tab:purple", linestyle="--", linewidth=1)
        ax.text(x, top * (0.5 if i % 2 else 1.0), f" {fault['fault']}", rotation=90, va="top", fontsize=8, color="tab:purple")
    ax.set_xlabel("minutes since the traffic started")
    ax.set_ylabel("latency per request, ms (log)")
    ax.set_title(title)
    ax.legend(loc="lower right", markerscale=4, fontsize=8)
    ax.grid(True, which="both", alpha=0.2)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def markdown(report: dict) -> str:
    """The README tables: totals, phases, faults, memory."""
    t = report["totals"]
    lines = [
        "| requests sent | answered 2xx | 4xx | 5xx | lost (sent - answered) | retried by the client |",
        "|---|---|---|---|---|---|",
        f"| {t['sent']:,} | {t['answered_2xx']:,} | {t['answered_4xx']:,} | {t['answered_5xx']:,} | **{t['lost']}** | {t['retried']:,} |",
        "",
        "| phase (from the fault to the next) | from-to (s) | requests | 5xx | prediction p50 / p95 (ms) |",
        "|---|---|---|---|---|",
    ]
    for p in report["phases"]:
        lines.append(f"| {p['phase']} | {p['from_s']:.0f}-{p['to_s']:.0f} | {p['requests']:,} | {p['5xx']} | "
                     f"{p['p50_ms']} / {p['p95_ms']} |")
    lines += ["", "| fault | at (s) | recovery (s), sign | traffic disturbed (s) | outcome |", "|---|---|---|---|---|"]
    for f in report["faults"]:
        outcome = f.get("error") or ", ".join(f"{k} {v}" for k, v in f.items() if k in ("status", "renewed", "default_after",
                                                                                         "outage_s", "threads"))
        lines.append(f"| {f['fault']} | {f['at_s']:.0f} | {f.get('recovery_s')} ({f.get('sign', '-')}) | "
                     f"{f.get('disturbed_s')} | {outcome} |")
    lines += ["", "| process | RSS at start (MB) | RSS at end (MB) |", "|---|---|---|"]
    for name, (start, end) in report["rss_by_role"].items():
        lines.append(f"| {name} | {start} | {end} |")
    return "\n".join(lines)


def rss_by_role(start: Sequence[dict], end: Sequence[dict]) -> dict[str, tuple[str, str]]:
    """role -> (RSS at start, RSS at end), several processes of a role listed by pid order."""
    def per_role(rows):
        out: dict[str, list[float]] = defaultdict(list)
        for r in rows:
            out[r["role"]].append(r["rss_mb"])
        return out

    a, b = per_role(start), per_role(end)
    return {role: (" + ".join(f"{x:g}" for x in a.get(role, [])) or "-", " + ".join(f"{x:g}" for x in b.get(role, [])) or "-")
            for role in sorted({*a, *b})}
