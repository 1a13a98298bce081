"""What a canary step is judged on: measurements of both versions and the go/no-go decision.

Three sources, each with the version that answered:
- live traffic: the proxy's JSON access log (status and upstream time of every unversioned
  request, labelled with the version nginx chose) -> per-version 5xx rate and p95 latency;
- TorchServe's Prometheus metrics: versioned URLs label `ts_inference_requests_total` and the
  latency counters with the version (unversioned ones say "default", docs/architecture.md), so the step's
  deltas give per-version request counts and mean inference/queue latency as a cross-check;
- a labelled probe set sent to each version's versioned URL -> accuracy, agreement between the
  versions, 5xx rate and p95 latency even when live traffic is thin.
`decide` turns those figures into reasons to roll back (empty list = go on). Pure functions, so
the thresholds are unit-tested without servers.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import requests
from prometheus_client.parser import text_string_to_metric_families

from pipeline.client import IntentClient


@dataclass(frozen=True)
class Thresholds:
    """params rollout.thresholds; None disables a check."""

    max_5xx_rate: float | None = 0.01
    max_p95_ms: float | None = None
    min_accuracy: float | None = None
    max_accuracy_drop: float | None = None
    min_agreement: float | None = None
    min_requests: int = 20  # live requests a version needs before its live figures are judged

    @classmethod
    def from_params(cls, cfg: dict) -> Thresholds:
        known = set(cls.__dataclass_fields__)
        unknown = set(cfg) - known
        if unknown:
            raise ValueError(f"params rollout.thresholds: unknown keys {sorted(unknown)} (known: {sorted(known)})")
        return cls(**cfg)


def p95(values: Sequence[float]) -> float | None:
    return float(np.percentile(np.asarray(values, dtype=float), 95)) if len(values) else None


def request_stats(statuses: Sequence[int], latencies_ms: Sequence[float]) -> dict:
    """Count, 5xx count and rate, p50/p95 latency of one version's requests."""
    n = len(statuses)
    errors = sum(1 for s in statuses if s >= 500 or s == 0)  # 0: no answer at all (connection failed)
    return {
        "requests": n,
        "5xx": errors,
        "5xx_rate": errors / n if n else None,
        "p50_ms": float(np.percentile(latencies_ms, 50)) if len(latencies_ms) else None,
        "p95_ms": p95(latencies_ms),
    }


def live_stats(records: list[dict]) -> dict[str, dict]:
    """Per-version figures of the proxy's access-log records (see nginx template `canary` format).

    A request nginx answered itself (429 over a limit, 413 over the body size: no upstream status)
    never reached a version and is left out. Explanations count as requests (their 5xx too) but
    not in the latency: one costs ~100 predictions, and `max_p95_ms` budgets predictions, so a few
    slow explanations must not roll a healthy version back. An explanation answered 503 is the
    handler shedding load by design (explanation budget spent, deadline passed, or the worker is
    not the one allowed to explain: "retry"), like nginx's 429: counted as `explanations_shed`,
    not as a request nor a 5xx (`make soak` found every canary rolled back by them at 2 % explanations).
    """
    by_version: dict[str, tuple[list[int], list[float], list[int]]] = {}
    for record in records:
        if not record.get("upstream_status"):
            continue
        statuses, latencies, shed = by_version.setdefault(str(record["version"]), ([], [], []))
        explanation = record.get("route") == "explanation"
        if explanation and int(record["status"]) == 503:
            shed.append(1)
            continue
        statuses.append(int(record["status"]))
        if not explanation:
            latencies.append(float(record["request_time"]) * 1000.0)
    return {version: {**request_stats(statuses, latencies), "explanations_shed": len(shed)}
            for version, (statuses, latencies, shed) in sorted(by_version.items())}


# -- TorchServe metrics --------------------------------------------------------------------------
TS_COUNTERS = {
    "ts_inference_requests_total": "requests",
    "ts_inference_latency_microseconds": "inference_us",
    "ts_queue_latency_microseconds": "queue_us",
}


def parse_ts_metrics(text: str, model_name: str) -> dict[str, dict[str, float]]:
    """version -> {requests, inference_us, queue_us} cumulative counters of one model."""
    out: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = TS_COUNTERS.get(sample.name) or TS_COUNTERS.get(sample.name.removesuffix("_total"))
            if key is None or sample.labels.get("model_name") != model_name:
                continue
            version = sample.labels.get("model_version", "default")
            out.setdefault(version, {}).setdefault(key, 0.0)
            out[version][key] += float(sample.value)
    return out


def scrape_ts_metrics(url: str, model_name: str, timeout: float = 10.0) -> dict[str, dict[str, float]]:
    response = requests.get(url, timeout=timeout)
    response.raise_for_status()
    return parse_ts_metrics(response.text, model_name)


def ts_deltas(before: dict, after: dict) -> dict[str, dict]:
    """Per-version requests and mean inference/queue latency (ms) between two scrapes."""
    out = {}
    for version, counters in after.items():
        base = before.get(version, {})
        delta = {k: counters.get(k, 0.0) - base.get(k, 0.0) for k in TS_COUNTERS.values()}
        n = delta["requests"]
        if not n:
            continue  # TorchServe keeps counters of versions unregistered long ago
        out[version] = {
            "requests": int(n),
            "mean_inference_ms": delta["inference_us"] / n / 1000.0 if n else None,
            "mean_queue_ms": delta["queue_us"] / n / 1000.0 if n else None,
        }
    return out


# -- probe set -------------------------------------------------------------------------------------
@dataclass
class ProbeResult:
    """One version's answers to the probe set, in probe order (intent None = no valid answer)."""

    intents: list[str | None]
    statuses: list[int]
    latencies_ms: list[float]
    answered_by: list[str | None]


def send_probe(url: str, texts: list[str], client: IntentClient, concurrency: int = 4) -> ProbeResult:
    """POST each text alone to `url` (a versioned prediction URL) and keep status, intent, time.
    The client follows token renewals; give it no retries, so a failing version shows."""

    def one(text: str) -> tuple[str | None, int, float, str | None]:
        started = time.perf_counter()
        response = client.request("POST", url, json={"text": text}).response
        if response is None:
            return None, 0, (time.perf_counter() - started) * 1000.0, None
        elapsed = (time.perf_counter() - started) * 1000.0
        intent = None
        if response.status_code == 200:
            try:
                intent = response.json().get("intent")
            except (ValueError, AttributeError):
                intent = None
        return intent, response.status_code, elapsed, response.headers.get("X-Model-Version")

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        answers = list(pool.map(one, texts))
    return ProbeResult(*(list(column) for column in zip(*answers, strict=True))) if answers else ProbeResult([], [], [], [])


def probe_figures(labels: list[str], canary: ProbeResult, stable: ProbeResult) -> dict:
    """Accuracy of each version on the labelled probe set and how often the two agree."""
    n = len(labels)

    def accuracy(result: ProbeResult) -> float | None:
        return sum(p == y for p, y in zip(result.intents, labels, strict=True)) / n if n else None

    both = [(c, s) for c, s in zip(canary.intents, stable.intents, strict=True) if c is not None and s is not None]
    return {
        "rows": n,
        "canary": {**request_stats(canary.statuses, canary.latencies_ms), "accuracy": accuracy(canary)},
        "stable": {**request_stats(stable.statuses, stable.latencies_ms), "accuracy": accuracy(stable)},
        "agreement": sum(c == s for c, s in both) / len(both) if both else None,
    }


# -- decision ----------------------------------------------------------------------------------------
def decide(figures: dict, canary: str, thresholds: Thresholds) -> list[str]:
    """Reasons to roll the canary back (empty = healthy). `figures` holds `live` (version -> stats)
    and/or `probe` (probe_figures). Live figures count only with enough requests."""
    reasons = []
    t = thresholds
    live = (figures.get("live") or {}).get(canary)
    live_judged = live is not None and live["requests"] >= t.min_requests
    probe = figures.get("probe")

    if t.max_5xx_rate is not None:
        if live_judged and live["5xx_rate"] > t.max_5xx_rate:
            reasons.append(f"live 5xx rate {live['5xx_rate']:.3f} > {t.max_5xx_rate} ({live['5xx']}/{live['requests']})")
        if probe and probe["canary"]["requests"] and probe["canary"]["5xx_rate"] > t.max_5xx_rate:
            c = probe["canary"]
            reasons.append(f"probe 5xx rate {c['5xx_rate']:.3f} > {t.max_5xx_rate} ({c['5xx']}/{c['requests']})")
    if t.max_p95_ms is not None:
        source, stats = ("live", live) if live_judged else ("probe", probe["canary"] if probe else None)
        if stats and stats["p95_ms"] is not None and stats["p95_ms"] > t.max_p95_ms:
            reasons.append(f"{source} p95 latency {stats['p95_ms']:.1f} ms > {t.max_p95_ms} ms")
    if probe and probe["rows"]:
        acc, stable_acc = probe["canary"]["accuracy"], probe["stable"]["accuracy"]
        if t.min_accuracy is not None and acc < t.min_accuracy:
            reasons.append(f"probe accuracy {acc:.3f} < {t.min_accuracy}")
        if t.max_accuracy_drop is not None and stable_acc is not None and stable_acc - acc > t.max_accuracy_drop:
            reasons.append(f"probe accuracy {acc:.3f} trails stable {stable_acc:.3f} by more than {t.max_accuracy_drop}")
        agreement = probe["agreement"]
        if t.min_agreement is not None and (agreement is None or agreement < t.min_agreement):
            shown = "n/a" if agreement is None else f"{agreement:.3f}"
            reasons.append(f"probe agreement with stable {shown} < {t.min_agreement}")
    return reasons
