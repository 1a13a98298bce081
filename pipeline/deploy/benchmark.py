"""Benchmark of the served model against its own ceiling and a naive peer (`make bench`).

Measures, on realistic prompts with a real spread of lengths (hand-written dev set + the
validation and test splits, 3..150 words, never the held-out realistic test set):
- served latency p50/p95/p99 at concurrency 1 (cache misses: Redis flushed first);
- served throughput at concurrency 16 with TorchServe's dynamic batching (cache misses), driven
  by wrk (a C load generator: 0.05-0.11 ms of CPU per request measured here) and, for the latency
  spread and continuity with earlier runs, by the Python client (~0.33 ms of CPU per request,
  taken from the same 2 cores the server runs on); both figures are in the result;
- served latency of cache hits at concurrency 1;
- the raw in-process throughput of the same archive (handler code, no HTTP), in as many
  processes as the server has workers, each with the archive's intra-op threads: the ceiling;
- a naive handler: a transformers pipeline per request, batch size 1, torch fp32, same process
  layout, in process (no HTTP cost, so the comparison favours the peer);
- the peer a team would write instead (pipeline/deploy/peer_app.py: FastAPI + uvicorn, 2 workers,
  ONNX Runtime 1 thread each, the archive's own model.int8.onnx, tokenizer and features, one forward
  per request), measured with the same Python client right after each served run (paired);
- the ceiling: the best in-process layout (processes x threads x batch) of the same archive;
- a saturation curve c=1..64 for both servers (bench/saturation.png), the histogram of requests per
  forward pass at c=16, and where the time of a lone request goes (client, frontend, handle(), forward).
Served figures come after a JVM warm-up and are each the median of several runs (served_figures).
TorchServe and Redis run on free loopback ports in a temporary directory, so a running
`make serve` is not disturbed. The load generator shares the 2 cores with the server: figures
are for the whole box, noted with its load average.
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import random
import re
import signal
import statistics
import subprocess
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psutil
import requests

from pipeline.client import TokenFile, token_refused
from pipeline.config import PROJECT_ROOT, resolve_path
from pipeline.deploy.bench_curves import (
    bucket_difference,
    counter_total,
    histogram_buckets,
    plot_saturation,
    saturation_curve,
)
from pipeline.deploy.peer import PeerServer
from pipeline.progress import progress_bar
from pipeline.services import LOOPBACK, free_port
from pipeline.services.redis import RedisServer
from pipeline.services.torchserve import TorchServe, serve_registration

MIN_WORDS, MAX_WORDS = 3, 150
WARMUP_ROUNDS = 10  # x the prompts (~12,000 requests): TorchServe's JVM at steady state
REPEATS = 3  # runs of each served figure and of the ceiling; the median run is reported
WRK_SCRIPT = Path(__file__).with_name("wrk_each_prompt_once.lua")  # wrk's Lua script, kept beside its caller


def load_prompts(params: dict, limit: int, seed: int = 0) -> list[str]:
    """Distinct prompts of 3..150 words from the realistic dev set and the processed val/test splits."""
    processed = resolve_path(params["paths"]["processed_dir"])
    sources = [resolve_path(params["paths"]["realistic_dev"]), processed / "val.jsonl", processed / "test.jsonl"]
    texts: list[str] = []
    for path in sources:
        if not path.is_file():
            raise FileNotFoundError(f"{path} not found: run `make data` (benchmark prompts come from it)")
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                text = json.loads(line)["text"]
                if MIN_WORDS <= len(text.split()) <= MAX_WORDS:
                    texts.append(text)
    texts = list(dict.fromkeys(texts))
    random.Random(seed).shuffle(texts)
    return texts[:limit]


def summary_ms(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000.0
    return {"n": int(ms.size), "p50_ms": round(float(np.percentile(ms, 50)), 2),
            "p95_ms": round(float(np.percentile(ms, 95)), 2), "p99_ms": round(float(np.percentile(ms, 99)), 2),
            "mean_ms": round(float(ms.mean()), 2)}


def median_run(runs: list, key):
    """The run whose `key` is the median (the upper one of an even count)."""
    return sorted(runs, key=key)[len(runs) // 2]


def word_stats(texts: list[str]) -> dict:
    words = [len(t.split()) for t in texts]
    return {"n": len(words), "min": min(words), "median": statistics.median(words), "max": max(words)}


# --- served ------------------------------------------------------------------------------------


def _client(port: int, token: TokenFile | None, path: str):
    """A keep-alive HTTP client per thread; returns post(text) -> (status, seconds, body).

    Lighter than pipeline.client (its CPU is taken from the server's 2 cores), with the same token
    rule: a refused token is re-read from the key file and the call repeated once (timed whole).
    token None: no Authorization header (the FastAPI peer)."""
    local = threading.local()

    def post(text: str):
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = local.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=60)
        body = json.dumps({"text": text}).encode()
        start = time.perf_counter()
        key = token.current() if token is not None else None
        for attempt in range(2):
            headers = {"Content-Type": "application/json"} | ({"Authorization": f"Bearer {key}"} if key else {})
            conn.request("POST", path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            if attempt or token is None or not token_refused(response.status, data):
                break
            key = token.refresh(key)
        elapsed = time.perf_counter() - start
        return response.status, elapsed, data

    return post


def run_load(post, texts: list[str], concurrency: int, desc: str) -> tuple[list[float], float, int]:
    """Send every text once with `concurrency` clients: (latencies, wall seconds, errors)."""
    latencies, errors = [], 0
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for status, elapsed, _ in progress_bar(pool.map(post, texts), total=len(texts), desc=desc, unit="request"):
            latencies.append(elapsed)
            errors += status != 200
    return latencies, time.perf_counter() - start, errors


def wrk_throughput(port: int, token: str, path: str, texts: list[str], concurrency: int,
                   timeout: float = 600.0) -> dict:
    """Every text POSTed once by wrk over `concurrency` keep-alive connections (one wrk thread):
    {"prompts_per_s", "requests", "errors", "seconds"}. wrk itself would run for a fixed time;
    pipeline/deploy/wrk_each_prompt_once.lua writes the result when the last text is answered and this
    stops wrk there."""
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        bodies, result = Path(tmp) / "bodies.jsonl", Path(tmp) / "result.json"
        bodies.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
        env = {**os.environ, "WRK_BODIES": str(bodies), "WRK_TOKEN": token, "WRK_RESULT": str(result)}
        cmd = ["wrk", "-t1", f"-c{concurrency}", f"-d{int(timeout)}s", "--timeout", f"{int(timeout)}s",
               "-s", str(WRK_SCRIPT), f"http://{LOOPBACK}:{port}{path}"]
        try:
            proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        except FileNotFoundError as exc:
            raise FileNotFoundError("wrk not found: run `make system-deps` (Debian package wrk)") from exc
        deadline = time.monotonic() + timeout
        while not result.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        cpu = sum(psutil.Process(proc.pid).cpu_times()[:2]) if proc.poll() is None else float("nan")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        if not result.exists():
            raise RuntimeError(f"wrk did not get every prompt answered within {timeout:.0f}s:\n{out}{err}")
        figures = json.loads(result.read_text())
    return {"prompts_per_s": round(figures["requests"] / figures["seconds"], 1), **figures,
            "client_cpu_ms_per_request": round(cpu / figures["requests"] * 1000, 3)}


def histogram_totals(metrics_text: str, name: str) -> tuple[float, float]:
    """(sum, count) of a Prometheus histogram over all its label sets."""
    def total(suffix: str) -> float:
        return sum(float(v) for v in re.findall(rf"^{name}_{suffix}(?:{{[^}}]*}})? (\S+)$", metrics_text, re.M))

    return total("sum"), total("count")


@dataclass
class ServedRuns:
    """Every measured run of the served model; the median is reported, the others show the spread."""

    latency: list = field(default_factory=list)  # run_load results at c=1, cache misses
    python_client: list = field(default_factory=list)  # (prompts/s, latencies, errors, client CPU ms/request)
    wrk: list = field(default_factory=list)  # wrk_throughput results + mean_requests_per_batch
    cache_hits: list = field(default_factory=list)  # run_load results at c=1, cache hits
    peer_latency: list = field(default_factory=list)  # the peer's run_load at c=1, right after the served one
    peer_python_client: list = field(default_factory=list)  # the peer's (prompts/s, latencies, errors) at c=N
    breakdown: list = field(default_factory=list)  # c1_breakdown of each latency run


def served_figures(mar: Path, texts: list[str], *, concurrency: int, latency_n: int, registration: dict,
                   warmup_rounds: int = WARMUP_ROUNDS, repeats: int = REPEATS, peer: PeerServer | None = None,
                   plot: Path | None = None) -> dict:
    """Start Redis + TorchServe on free ports, warm up, measure, stop both.

    Each figure comes from the median of `repeats` runs (by the figure it reports: prompts/s, p95
    or p50): one run lasts seconds and the spread between runs on this shared 2-core VM is ~10 %
    for throughput and up to ~40 % for a p95. Every run's figure is kept in the result.

    The warm-up sends every prompt `warmup_rounds` times at full concurrency: the JVM compiles
    TorchServe's request path over the first ~10,000 requests (measured here at c=16: the frontend
    used 1.5 ms of CPU per request after 800 requests, 0.6 ms after 12,000), and a server that has
    been up for a while is what users call. The first and last warm-up rounds' throughput are
    reported, so the cold figure is not hidden.
    """
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        tmp = Path(tmp)
        cache = RedisServer(port=free_port(), run_dir=tmp / "redis").start()
        ts = TorchServe(model_store=mar.parent, run_dir=tmp / "ts", env={**cache.handler_env(),
                        "BETTERPROMPTS_PREDICTION_LOG": str(tmp / "predictions-{pid}.jsonl")},
                        inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
                        grpc_ports=(free_port(), free_port()))
        try:
            model, described = _start_and_register(ts, mar, registration)
            post = _client(ts.inference_port, TokenFile(ts.key_file()), f"/predictions/{model}")
            peer_post = _client(peer.port, None, "/predict") if peer is not None else None
            flush = cache.client().flushdb
            warmup = _warm_up(post, flush, texts, concurrency, warmup_rounds)
            if peer_post is not None:
                _warm_up(peer_post, lambda: None, texts, concurrency, 2)
            runs = _measure(ts, model, post, flush, texts, concurrency=concurrency, latency_n=latency_n,
                            repeats=repeats, peer_post=peer_post)
            figures = _median_figures(described, warmup, runs, n_texts=len(texts), concurrency=concurrency,
                                      warmup_rounds=warmup_rounds)
            curves = {"torchserve": saturation_curve(post, texts, flush=flush)}
            if peer_post is not None:
                curves["fastapi_ort_peer"] = saturation_curve(peer_post, texts)
            figures["saturation"] = curves
            if plot is not None:
                figures["saturation_png"] = str(plot_saturation(curves, plot).relative_to(PROJECT_ROOT)
                                                if plot.is_relative_to(PROJECT_ROOT) else plot)
            return figures
        except Exception as exc:
            raise RuntimeError(f"{exc}\n--- TorchServe log tail ---\n{ts.log_tail(40)}") from exc
        finally:
            ts.stop()
            cache.stop()


def _start_and_register(ts: TorchServe, mar: Path, registration: dict) -> tuple[str, dict]:
    """Start TorchServe and register the archive as `make serve` does: (model name, its description)."""
    ts.start(timeout=300)
    response = ts.manage("POST", "models", params={"url": mar.name, "synchronous": "true", **registration},
                         timeout=300)
    if response.status_code != 200:
        raise RuntimeError(f"registering {mar.name} failed: {response.text}")
    model = json.loads(zipfile.ZipFile(mar).read("MAR-INF/MANIFEST.json"))["model"]["modelName"]
    return model, ts.describe(model)[0]


def _warm_up(post, flush, texts: list[str], concurrency: int, rounds: int) -> list[float]:
    """Prompts/s of each warm-up round (cache flushed after each, so every round reaches the model)."""
    warmup = []
    for round_ in range(rounds):
        _, wall, _ = run_load(post, texts, concurrency, f"warm-up {round_ + 1}/{rounds}")
        warmup.append(round(len(texts) / wall, 1))
        flush()
    return warmup


def _measure(ts: TorchServe, model: str, post, flush, texts: list[str], *, concurrency: int, latency_n: int,
             repeats: int, peer_post=None) -> ServedRuns:
    """`repeats` rounds of: latency c=1, throughput by the Python client and by wrk, cache hits c=1;
    with a peer, its c=1 and Python-client runs right after the served ones (pairs)."""
    runs = ServedRuns()
    for repeat in range(repeats):  # cache flushed before the miss runs, filled for the hit run
        flush()
        before = requests.get(ts.metrics_url(), timeout=30).text
        runs.latency.append(run_load(post, texts[:latency_n], 1, f"latency c=1 {repeat + 1}/{repeats}"))
        runs.breakdown.append(c1_breakdown(before, requests.get(ts.metrics_url(), timeout=30).text, runs.latency[-1][0]))
        if peer_post is not None:
            runs.peer_latency.append(run_load(peer_post, texts[:latency_n], 1, f"peer latency c=1 {repeat + 1}/{repeats}"))
        flush()
        cpu = time.process_time()  # this process is the client (and idle otherwise)
        lat_cn, wall, err_cn = run_load(post, texts, concurrency, f"throughput c={concurrency} {repeat + 1}/{repeats}")
        runs.python_client.append((len(texts) / wall, lat_cn, err_cn,
                                   (time.process_time() - cpu) / len(texts) * 1000))
        if peer_post is not None:
            lat_peer, wall_peer, err_peer = run_load(peer_post, texts, concurrency,
                                                     f"peer throughput c={concurrency} {repeat + 1}/{repeats}")
            runs.peer_python_client.append((len(texts) / wall_peer, lat_peer, err_peer))
        flush()
        runs.wrk.append(_wrk_run(ts, model, texts, concurrency))
        runs.cache_hits.append(run_load(post, texts[:latency_n], 1, f"cache hits c=1 {repeat + 1}/{repeats}"))
    return runs


def c1_breakdown(before: str, after: str, latencies: list[float]) -> dict:
    """Mean ms per request of a c=1 run, layer by layer, from TorchServe's metrics scraped around it:
    client (what the caller waits), frontend (TorchServe's inference latency: request in to response
    out), handle() (the handler's own histogram). The differences are the HTTP + client cost and the
    frontend <-> worker hop; the forward pass itself is measured in process (raw_in_process_c1)."""
    requests_done = counter_total(after, "ts_inference_requests_total") - counter_total(before, "ts_inference_requests_total")
    if not requests_done:
        return {}
    def mean(name: str, scale: float) -> float:
        return (counter_total(after, name) - counter_total(before, name)) / requests_done * scale
    handle = (histogram_totals(after, "intent_handler_seconds")[0] - histogram_totals(before, "intent_handler_seconds")[0])
    client = float(np.mean(latencies)) * 1000
    frontend = mean("ts_inference_latency_microseconds", 1e-3)
    handle_ms = handle / requests_done * 1000
    return {"client_ms": round(client, 3), "frontend_ms": round(frontend, 3), "handle_ms": round(handle_ms, 3),
            "queue_ms": round(mean("ts_queue_latency_microseconds", 1e-3), 3),
            "http_and_client_ms": round(client - frontend, 3), "frontend_to_worker_ms": round(frontend - handle_ms, 3)}


def _wrk_run(ts: TorchServe, model: str, texts: list[str], concurrency: int) -> dict:
    """One wrk throughput run, with the mean batch formed during it and its histogram (requests per
    forward pass: TorchServe's batches, or in async mode the handler's coalesced forwards)."""
    def scrape() -> str:
        return requests.get(ts.metrics_url(), timeout=30).text

    before = scrape()
    run = wrk_throughput(ts.inference_port, ts.keys()["inference"], f"/predictions/{model}", texts, concurrency)
    after = scrape()
    (sum_after, count_after), (sum_before, count_before) = (histogram_totals(t, "intent_batch_requests") for t in (after, before))
    batches = count_after - count_before
    run["mean_requests_per_batch"] = round((sum_after - sum_before) / batches, 2) if batches else None
    run["requests_per_forward_histogram"] = bucket_difference(histogram_buckets(after, "intent_batch_requests"),
                                                              histogram_buckets(before, "intent_batch_requests"))
    return run


def _median_figures(described: dict, warmup: list[float], runs: ServedRuns, *, n_texts: int, concurrency: int,
                    warmup_rounds: int) -> dict:
    """The served result: each figure from its median run, with every run's figure beside it."""
    tput, lat_cn, err_cn, client_cpu = median_run(runs.python_client, lambda r: r[0])
    wrk = median_run(runs.wrk, lambda r: r["prompts_per_s"])
    lat_c1, _, err_c1 = median_run(runs.latency, lambda r: np.percentile(r[0], 95))
    lat_hit, _, err_hit = median_run(runs.cache_hits, lambda r: np.percentile(r[0], 50))
    return {
        "config": {k: described.get(k) for k in ("modelVersion", "batchSize", "maxBatchDelay", "minWorkers")},
        "warmup": {"rounds": warmup_rounds, "requests": warmup_rounds * n_texts,
                   f"first_round_c{concurrency}_prompts_per_s": warmup[0] if warmup else None,
                   f"last_round_c{concurrency}_prompts_per_s": warmup[-1] if warmup else None},
        "latency_c1": summary_ms(lat_c1) | {"errors": err_c1,
                                            "runs_p95_ms": [summary_ms(r[0])["p95_ms"] for r in runs.latency]},
        f"throughput_c{concurrency}": {"prompts_per_s": wrk["prompts_per_s"], "errors": wrk["errors"],
                                       "client": "wrk 1 thread (C)",
                                       "client_cpu_ms_per_request": wrk["client_cpu_ms_per_request"],
                                       "mean_requests_per_batch": wrk["mean_requests_per_batch"],
                                       "requests_per_forward_histogram": wrk["requests_per_forward_histogram"],
                                       "runs_prompts_per_s": [r["prompts_per_s"] for r in runs.wrk]},
        f"throughput_c{concurrency}_python_client": {"prompts_per_s": round(tput, 1), "errors": err_cn,
                                                     "client_cpu_ms_per_request": round(client_cpu, 3),
                                                     "runs_prompts_per_s": [round(r[0], 1) for r in runs.python_client]}
        | summary_ms(lat_cn),
        "cache_hit_c1": summary_ms(lat_hit) | {"errors": err_hit,
                                               "runs_p50_ms": [summary_ms(r[0])["p50_ms"] for r in runs.cache_hits]},
        "latency_c1_breakdown": median_run(runs.breakdown, lambda r: r.get("client_ms", 0)),
    } | (_peer_figures(runs, concurrency) if runs.peer_latency else {})


def _peer_figures(runs: ServedRuns, concurrency: int) -> dict:
    """The peer's median figures and each pair's ratio TorchServe / peer (same client, back to back)."""
    pairs_c1 = [(summary_ms(s[0]), summary_ms(p[0])) for s, p in zip(runs.latency, runs.peer_latency, strict=True)]
    pairs_cn = [(s[0], p[0]) for s, p in zip(runs.python_client, runs.peer_python_client, strict=True)]
    lat, _, err = median_run(runs.peer_latency, lambda r: np.percentile(r[0], 95))
    tput, lat_cn, err_cn = median_run(runs.peer_python_client, lambda r: r[0])
    return {"peer": {
        "what": "FastAPI + uvicorn 2 workers, ONNX Runtime int8 1 thread each, one forward per request (peer_app.py)",
        "latency_c1": summary_ms(lat) | {"errors": err},
        f"throughput_c{concurrency}_python_client": {"prompts_per_s": round(tput, 1), "errors": err_cn} | summary_ms(lat_cn),
        "pairs_served_over_peer": {
            "c1_p50": [round(s["p50_ms"] / p["p50_ms"], 2) for s, p in pairs_c1],
            "c1_p95": [round(s["p95_ms"] / p["p95_ms"], 2) for s, p in pairs_c1],
            f"c{concurrency}_prompts_per_s": [round(s / p, 2) for s, p in pairs_cn],
        },
    }}


# --- in process ----------------------------------------------------------------------------------


def extract_archive(mar: Path, dst: Path) -> Path:
    with zipfile.ZipFile(mar) as zf:
        zf.extractall(dst)
    return dst


def archive_threads(model_dir: Path) -> int:
    """Intra-op threads per worker the archive's handler uses (model-config.yaml handler.torch_threads)."""
    import yaml

    return int((yaml.safe_load((model_dir / "model-config.yaml").read_text())["handler"]).get("torch_threads", 1))


def local_handler(model_dir: Path, threads: int | None = None):
    """The archive's handler on a TorchServe Context in this process (cache and prediction log off;
    synchronous: handle() answers at once). threads: intra-op threads for every batch size instead of
    the archive's torch_threads / single_row_threads."""
    import sys

    import ts
    import yaml
    from ts.context import Context
    from ts.metrics.metric_cache_yaml_impl import MetricsCacheYamlImpl

    sys.path.insert(0, str(model_dir))  # the archived handler, model_src and pipeline modules
    try:
        from intent_handler import IntentHandler
    finally:
        sys.path.remove(str(model_dir))
    config = yaml.safe_load((model_dir / "model-config.yaml").read_text())
    config["handler"].setdefault("serve", {})["cache_enabled"] = False
    config["handler"].setdefault("monitor", {}).setdefault("prediction_log", {})["enabled"] = False
    config["asyncCommunication"] = False
    if threads is not None:
        config["handler"]["torch_threads"] = config["handler"]["single_row_threads"] = threads
    manifest = json.loads((model_dir / "MAR-INF" / "MANIFEST.json").read_text())
    metrics = MetricsCacheYamlImpl(str(Path(ts.__file__).parent / "configs" / "metrics.yaml"))
    metrics.initialize_cache()
    context = Context(manifest["model"]["modelName"], str(model_dir), manifest, 1, None, ts.__version__,
                      metrics=metrics, model_yaml_config=config)
    handler = IntentHandler()
    handler.initialize(context)
    return handler


def _raw_worker(model_dir: str, texts: list[str], batch_size: int, barrier, threads: int | None = None) -> float:
    """One worker process: the handler's tokenise + features + bucketed forward over its shard."""
    handler = local_handler(Path(model_dir), threads)
    handler.predict_texts(texts[:16])  # warm-up
    barrier.wait()
    start = time.perf_counter()
    for i in range(0, len(texts), batch_size):
        handler.predict_texts(texts[i : i + batch_size])
    return time.perf_counter() - start


def _naive_worker(model_dir: str, texts: list[str], batch_size: int, barrier, threads: int | None = None) -> float:
    """One worker process of a naive handler: a transformers pipeline per request, batch 1, torch fp32."""
    import torch
    from transformers import AutoTokenizer, pipeline

    from model_src.features import extract_features
    from model_src.intent_classifier_model import IntentClassifier

    torch.set_num_threads(archive_threads(Path(model_dir)))
    model = IntentClassifier.from_pretrained(model_dir)
    pipe = pipeline("feature-extraction", model=model.encoder, tokenizer=AutoTokenizer.from_pretrained(model_dir),
                    device="cpu")
    truncate = {"truncation": True, "max_length": int(model.config["max_length"])}  # as the served model

    def predict(text: str):
        hidden = pipe(text, return_tensors=True, tokenize_kwargs=truncate)  # (1, T, H)
        x = model.pool(hidden, torch.ones(hidden.shape[:2], dtype=torch.long))
        if model.feature_mean.numel():
            feats = torch.from_numpy(np.asarray(extract_features([text]), dtype=np.float32))
            x = torch.cat([x, (feats - model.feature_mean) / model.feature_std], dim=-1)
        return model.intent_head(x).softmax(-1), model.complexity_head(x)

    with torch.inference_mode():
        predict(texts[0])
        barrier.wait()
        start = time.perf_counter()
        for text in texts:
            predict(text)
    return time.perf_counter() - start


def parallel_throughput(worker, model_dir: Path, texts: list[str], workers: int, batch_size: int = 1,
                        threads: int | None = None) -> float:
    """Prompts/s of `workers` processes sharing the texts (the server's topology),
    all started together after loading; the slowest process sets the wall time."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    barrier, results = ctx.Barrier(workers), ctx.Queue()
    procs = [ctx.Process(target=_timed, args=(worker, str(model_dir), texts[i::workers], batch_size, barrier, results, threads))
             for i in range(workers)]
    for proc in procs:
        proc.start()
    try:
        seconds = [results.get(timeout=1800) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=60)
            if proc.is_alive():
                proc.kill()
    failed = [s for s in seconds if isinstance(s, str)]
    if failed:
        raise RuntimeError(f"benchmark worker failed: {failed[0]}")
    return len(texts) / max(seconds)


def _timed(worker, model_dir: str, texts: list[str], batch_size: int, barrier, results, threads: int | None) -> None:
    """Process entry point: put the worker's seconds (or its error) on the results queue."""
    try:
        results.put(worker(model_dir, texts, batch_size, barrier, threads))
    except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises it
        barrier.abort()
        results.put(f"{type(exc).__name__}: {exc}")


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(),
            "load_average_1m": round(os.getloadavg()[0], 2)}


# in-process layouts searched for the ceiling: (processes, intra-op threads each, rows per call)
CEILING_LAYOUTS = ((2, 1, 1), (2, 1, 8), (2, 1, 16), (1, 2, 1), (1, 2, 8))


def ceiling_search(model_dir: Path, texts: list[str], repeats: int) -> dict:
    """The best in-process configuration of the archive's handler code (tokenise + features + bucketed
    forward, no HTTP): every layout once, then the best one `repeats` times (median reported)."""
    tried = {f"{p}x{t}_batch{b}": round(parallel_throughput(_raw_worker, model_dir, texts, p, b, t), 1)
             for p, t, b in progress_bar(CEILING_LAYOUTS, total=len(CEILING_LAYOUTS), desc="ceiling layouts", unit="layout")}
    best = max(tried, key=tried.get)
    p, t, b = CEILING_LAYOUTS[list(tried).index(best)]
    runs = sorted(parallel_throughput(_raw_worker, model_dir, texts, p, b, t) for _ in range(repeats))
    return {"best_layout": best, "processes": p, "threads_each": t, "batch_size": b,
            "prompts_per_s": round(runs[len(runs) // 2], 1), "runs_prompts_per_s": [round(r, 1) for r in runs],
            "layouts_once_prompts_per_s": tried}


def raw_c1(model_dir: Path, texts: list[str]) -> dict:
    """One row at a time in this process, as a lone request meets the handler: the whole
    predict_texts and the ONNX/torch run alone (mean ms), the floor under the served c=1 figure."""
    from model_src.runtime import pad_batch

    handler = local_handler(model_dir)
    for text in texts[:20]:
        handler.predict_texts([text])
    start = time.perf_counter()
    for text in texts:
        handler.predict_texts([text])
    whole = (time.perf_counter() - start) / len(texts) * 1000
    inputs = [(pad_batch([ids], handler.pad_id), handler.features([t])) for ids, t in zip(handler.tokenize(texts), texts, strict=True)]
    start = time.perf_counter()
    for (ids, mask), feats in inputs:
        handler.run_single(ids, mask, feats)
    forward = (time.perf_counter() - start) / len(texts) * 1000
    return {"predict_texts_ms": round(whole, 3), "forward_ms": round(forward, 3),
            "handler_code_beyond_forward_ms": round(whole - forward, 3)}


def run_benchmark(params: dict, mar: Path, *, n_prompts: int = 1200, latency_n: int = 300, concurrency: int = 16,
                  naive_n: int = 200, registration: dict | None = None, warmup_rounds: int = WARMUP_ROUNDS,
                  repeats: int = REPEATS, peer: bool = True, plot: Path | None = None) -> dict:
    """All figures plus the issue's targets, as one JSON-able dict."""
    import yaml

    if not mar.is_file():
        raise FileNotFoundError(f"{mar} not found: run `make archive`")
    texts = load_prompts(params, n_prompts)
    registration = serve_registration(params) | (registration or {})  # as `make serve` registers it
    result = {"archive": mar.name, "archive_mb": round(mar.stat().st_size / 1e6, 1), "machine": machine(),
              "prompts": word_stats(texts)}
    with tempfile.TemporaryDirectory(prefix="bench-mar-") as tmp:
        model_dir = extract_archive(mar, Path(tmp) / "model")
        config = yaml.safe_load((model_dir / "model-config.yaml").read_text())
        workers = int(registration.get("initial_workers", config.get("minWorkers", 1)))
        peer_server = PeerServer(model_dir=model_dir, run_dir=Path(tmp) / "peer", workers=workers).start() if peer else None
        try:
            result["served"] = served_figures(mar, texts, concurrency=concurrency, latency_n=latency_n,
                                              registration=registration, warmup_rounds=warmup_rounds, repeats=repeats,
                                              peer=peer_server, plot=plot)
        finally:
            if peer_server is not None:
                peer_server.stop()
        runtime = config["handler"]["serve"]["runtime"]
        threads = archive_threads(model_dir)
        result["raw_in_process_c1"] = raw_c1(model_dir, texts[:latency_n])
        result["raw_in_process"] = {"runtime": runtime} | ceiling_search(model_dir, texts, repeats)
        result["naive_pipeline"] = {
            "runtime": "torch fp32, transformers pipeline, batch 1", "processes": workers, "threads_each": threads,
            "prompts_per_s": round(parallel_throughput(_naive_worker, model_dir, texts[:naive_n], workers), 1),
        }
    result["machine"]["load_average_1m_after"] = round(os.getloadavg()[0], 2)
    served = result["served"]
    served_tput = served[f"throughput_c{concurrency}"]["prompts_per_s"]
    served_python = served[f"throughput_c{concurrency}_python_client"]["prompts_per_s"]
    ceiling = result["raw_in_process"]["prompts_per_s"]
    result["ratios"] = {
        "served_over_ceiling": round(served_tput / ceiling, 2),
        "served_over_naive": round(served_tput / result["naive_pipeline"]["prompts_per_s"], 2),
    }
    result["targets"] = {
        "c1_p50_le_5ms": served["latency_c1"]["p50_ms"] <= 5.0,
        "c1_p95_le_10ms": served["latency_c1"]["p95_ms"] <= 10.0,
        "served_ge_0.85x_ceiling": served_tput >= 0.85 * ceiling,
        "served_ge_3x_naive": served_tput >= 3.0 * result["naive_pipeline"]["prompts_per_s"],
        "cache_hit_p50_le_1ms": served["cache_hit_c1"]["p50_ms"] <= 1.0,
        "archive_le_50mb": result["archive_mb"] <= 50.0,
    }
    if "peer" in served:
        peer_fig = served["peer"]
        peer_tput = peer_fig[f"throughput_c{concurrency}_python_client"]["prompts_per_s"]
        result["ratios"]["served_over_peer_python_client"] = round(served_python / peer_tput, 2)
        result["targets"]["served_ge_1x_peer"] = served_python >= peer_tput
        result["targets"]["c1_p50_p95_not_above_peer"] = (
            served["latency_c1"]["p50_ms"] <= peer_fig["latency_c1"]["p50_ms"]
            and served["latency_c1"]["p95_ms"] <= peer_fig["latency_c1"]["p95_ms"])
    return result
