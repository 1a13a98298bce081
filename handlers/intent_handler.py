"""TorchServe handler for intent_classifier: intent + complexity per prompt, batched, cached, explained.

Requests (one TorchServe request = one row of the batch TorchServe hands us):
  {"text": "..."}                 -> one prediction object
  raw text (text/plain)           -> one prediction object
  {"texts": ["...", ...]}         -> a list, one object per text (1..serve.max_batch_texts)
  /explanations/...: the same bodies, plus optional "target_intent" and "n_steps"
  KServe v1 (/v1/models/<name>:predict|:explain): {"instances": [{"text": "..."} | "...", ...]}
                                  -> {"predictions": [...]} (or "explanations"), one object per instance
  KServe v2 / Open Inference Protocol (/v2/models/<name>/infer): one BYTES input tensor of texts
                                  -> output tensors intent, confidence, complexity_level, complexity_score
TorchServe's own service_envelope=kserve hands handle() the instances of one request instead of
request rows: handle() recognises that and answers them as one v1 request (see `enveloped_body`).
A bad request gets its own 400 (`context.set_response_status(code, phrase, idx)`) and the other
rows of the batch are answered normally; a bad element of a "texts" list becomes an error object
in that list. Nothing a client sends raises out of `handle`: TorchServe would turn that into a
503 for the whole batch.

Why it is built this way (measured, see docs/architecture.md and README "Serving"):
- rows are sorted by token length and cut into buckets before the forward pass: with a real
  spread of prompt lengths a padded batch is slower than one-by-one inference;
- a batch of one row (low load: the other core is idle) runs with `single_row_threads` intra-op
  threads, larger batches with `torch_threads` per worker (c=1 p95 -3 ms, c=16 unchanged);
- the Redis cache is keyed by (model version, sha256 of the normalised text) and is optional:
  Redis down -> no cache, counted in a metric, retried after a back-off, never an error; fresh
  results are written by a background thread, so a miss waits for one Redis round trip, not two;
- probabilities are temperature-calibrated with the model's calibration.json (model_src.calibration);
- explanations are Captum LayerIntegratedGradients on the embedding layer, merged to words;
- with `asyncCommunication: true` in model-config.yaml (TorchServe's asynchronous backend mode,
  params.yaml serve.async_backend) TorchServe hands every request over at once, one per handle() call, and handle() returns a
  coroutine: predictions are batched here by model_src.coalescer (run at once when idle, everything
  that arrived during a forward as the next batch, never a timer), and explanations run on a thread
  of their own at the lowest CPU priority, at most one per worker, so predictions never wait behind them.

TorchServe accepts exactly one class in a handler file: helpers are plain functions.
Settings come from the archive's model-config.yaml (`handler:`), which `make archive` fills with
the `serve`, `techniques` and `monitor` sections of params.yaml.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import hashlib
import json
import logging
import os
import queue
import re
import tempfile
import threading
import time
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from model_src.responses import build_answers, check_text, error_body, handler_settings
from model_src.runtime import ServedModel, bucketed_forward

logger = logging.getLogger(__name__)

_WS = re.compile(r"\s+")
CACHE_RETRY_SECONDS = 5.0  # after a Redis failure, serve without cache this long before retrying
CACHE_WRITE_QUEUE = 1000  # batches of results waiting to be written to Redis; beyond, they are not cached
# An error message echoes at most this much of what the client sent: TorchServe puts the message in
# the HTTP reason phrase too, and a 1 MB phrase turns the answer into a proxy's 502.
ECHO_CHARS = 60
REASON_CHARS = 200


# -----------------------------------------------------------------------------
# request parsing: bytes in, texts or an error message out (never an exception)


def shown(value) -> str:
    """repr of a client's value for an error message, cut to ECHO_CHARS characters."""
    text = repr(value)
    return text if len(text) <= ECHO_CHARS else f"{text[:ECHO_CHARS]}... ({len(text)} characters)"


def reason_phrase(message: str) -> str:
    """The HTTP reason phrase for an error: one line, at most REASON_CHARS characters."""
    line = " ".join(message.split())
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 3] + "..."


def request_body(row: dict):
    """The payload TorchServe put in a request row ("data" for form/multipart, "body" otherwise)."""
    if not isinstance(row, dict):
        return row
    return row.get("data") if row.get("data") is not None else row.get("body")


def parse_request(
    body,
    content_type: str | None,
    *,
    max_chars: int,
    max_texts: int,
    intents: list[str],
    explain: bool = False,
    n_steps_default: int = 20,
    n_steps_max: int = 50,
    max_explain_texts: int = 8,
) -> dict:
    """One request -> {"items": [text | error dict], "is_list", "target_intent", "n_steps"} or {"error"}.

    JSON is required when the content type says JSON or the body starts with "{"; any other body
    is a raw prompt (send prompts that start with "{" as text/plain).
    """
    if body is None:
        return {
            "error": 'no request body (form posts are not read): send {"text": "..."} or {"texts": [...]} '
            "as application/json, or the prompt as text/plain"
        }
    if isinstance(body, bytes | bytearray):
        try:
            body = bytes(body).decode("utf-8")
        except UnicodeDecodeError as exc:
            return {"error": f"request body is not valid UTF-8 (byte {exc.start})"}
    content_type = (content_type or "").split(";")[0].strip().lower()
    if isinstance(body, str):
        looks_json = content_type == "application/json" or (
            not content_type.startswith("text/") and body.lstrip().startswith("{")
        )
        if not looks_json:
            text, problem = check_text(body, max_chars, "body")
            if problem:
                return {"error": problem}
            return {"items": [text], "is_list": False, "target_intent": None, "n_steps": n_steps_default}
        try:
            body = json.loads(body)
        except ValueError as exc:
            return {"error": f"request body is not valid JSON: {exc}"}
        except RecursionError:  # deeply nested arrays/objects exhaust the decoder's stack
            return {"error": "request body is not valid JSON: nested too deeply"}
    if isinstance(body, str):  # a JSON string is a prompt too
        body = {"text": body}
    if not isinstance(body, dict):
        return {"error": f'expected a JSON object {{"text": ...}} or {{"texts": [...]}}, got {type(body).__name__}'}
    limit = max_explain_texts if explain else max_texts
    if "instances" in body:
        return parse_v1_instances(body["instances"], max_chars, limit, n_steps_default)
    if "inputs" in body:
        return parse_v2_inputs(body, max_chars, limit, n_steps_default)
    if ("text" in body) == ("texts" in body):
        return {"error": 'the JSON object needs exactly one of "text" or "texts"'}

    target = body.get("target_intent")
    if target is not None and (not explain or target not in intents):
        if not explain:
            return {"error": "'target_intent' is only accepted by /explanations"}
        return {"error": f"'target_intent' must be one of {intents}, got {shown(target)}"}
    n_steps = body.get("n_steps", n_steps_default)
    if "n_steps" in body and not explain:
        return {"error": "'n_steps' is only accepted by /explanations"}
    if isinstance(n_steps, bool) or not isinstance(n_steps, int) or not 1 <= n_steps <= n_steps_max:
        return {"error": f"'n_steps' must be an integer in 1..{n_steps_max}, got {shown(n_steps)}"}

    if "text" in body:
        text, problem = check_text(body["text"], max_chars)
        if problem:
            return {"error": problem}
        return {"items": [text], "is_list": False, "target_intent": target, "n_steps": n_steps}
    texts = body["texts"]
    if not isinstance(texts, list):
        return {"error": f"'texts' must be a list of strings, got {type(texts).__name__}"}
    if not 1 <= len(texts) <= limit:
        return {"error": f"'texts' must hold 1..{limit} strings, got {len(texts)}"}
    return {"items": check_texts(texts, max_chars, "texts"), "is_list": True, "target_intent": target, "n_steps": n_steps}


def check_texts(values: list, max_chars: int, name: str) -> list:
    """Each value as check_text sees it: the trimmed text, or an error object naming name[i]."""
    items = []
    for i, value in enumerate(values):
        text, problem = check_text(value, max_chars, f"{name}[{i}]")
        items.append(error_body(problem) if problem else text)
    return items


def parse_v1_instances(instances, max_chars: int, limit: int, n_steps: int) -> dict:
    """KServe v1 "instances": each {"text": "..."} or a bare string; a bad instance becomes its own
    error object (as a bad element of "texts"), the others are answered."""
    if not isinstance(instances, list) or not 1 <= len(instances) <= limit:
        count = len(instances) if isinstance(instances, list) else type(instances).__name__
        return {"error": f"'instances' must be a list of 1..{limit} instances, got {count}"}
    # {"text": ...} -> its text; anything else is checked as it is (a string, or an error naming it)
    values = [i["text"] if isinstance(i, dict) and set(i) == {"text"} else i for i in instances]
    return {"items": check_texts(values, max_chars, "instances"), "is_list": True, "protocol": "v1",
            "target_intent": None, "n_steps": n_steps}


def parse_v2_inputs(body: dict, max_chars: int, limit: int, n_steps: int) -> dict:
    """Open Inference Protocol: exactly one BYTES input of shape [N] (or [N, 1]) holding N texts.

    A tensor has no per-row error slot, so any bad text fails the whole request, naming its index.
    """
    inputs = body["inputs"]
    if not isinstance(inputs, list) or len(inputs) != 1 or not isinstance(inputs[0], dict):
        return {"error": "'inputs' must hold exactly one tensor: the texts, datatype BYTES, shape [N]"}
    tensor = inputs[0]
    if tensor.get("datatype") != "BYTES":
        return {"error": f"input '{tensor.get('name')}' must have datatype BYTES (texts), got {tensor.get('datatype')!r}"}
    data, shape = tensor.get("data"), tensor.get("shape")
    if not isinstance(data, list) or not isinstance(shape, list) or shape not in ([len(data)], [len(data), 1]):
        return {"error": f"input '{tensor.get('name')}' must have shape [N] or [N, 1] matching its {len(data) if isinstance(data, list) else 0} data elements, got {shape!r}"}
    if not 1 <= len(data) <= limit:
        return {"error": f"input '{tensor.get('name')}' must hold 1..{limit} texts, got {len(data)}"}
    items = check_texts(data, max_chars, str(tensor.get("name")))
    problems = [item["error"] for item in items if isinstance(item, dict)]
    if problems:
        return {"error": problems[0]}
    return {"items": items, "is_list": True, "protocol": "v2", "request_id": body.get("id"),
            "target_intent": None, "n_steps": n_steps}


def v2_response(predictions: list[dict], model_name: str, model_version: str, request_id) -> dict:
    """Open Inference Protocol answer: one output tensor per field, one element per input text."""
    n = len(predictions)

    def tensor(name: str, datatype: str, values: list) -> dict:
        return {"name": name, "datatype": datatype, "shape": [n], "data": values}

    out = {
        "model_name": model_name,
        "model_version": model_version,
        "outputs": [
            tensor("intent", "BYTES", [p["intent"] for p in predictions]),
            tensor("confidence", "FP32", [p["confidence"] for p in predictions]),
            tensor("complexity_level", "BYTES", [p["complexity"]["level"] for p in predictions]),
            tensor("complexity_score", "FP32", [p["complexity"]["score"] for p in predictions]),
        ],
    }
    if request_id is not None:
        out["id"] = str(request_id)
    return out


def is_request_row(row) -> bool:
    """A row as TorchServe hands it without an envelope: request parameters -> raw bytes."""
    return isinstance(row, dict) and all(v is None or isinstance(v, bytes | bytearray) for v in row.values())


def enveloped_body(data) -> dict | None:
    """The request TorchServe's service_envelope already unpacked, as a body parse_request reads;
    None when `data` holds ordinary request rows.

    service_envelope=kserve passes the "instances" of the batch's first request (None when it had
    none); kservev2 passes the input tensors with each BYTES tensor cut to its first element and
    maps the handler's outputs one to one onto the input names, which cannot carry four output
    tensors: that envelope is refused with a reason (the KServe package runs without one).
    """
    if data and all(is_request_row(row) for row in data):  # TorchServe never hands over an empty batch
        return None
    if data and all(isinstance(row, dict) and "datatype" in row for row in data):
        return {"error": "service_envelope=kservev2 keeps only the first text of a BYTES tensor: run TorchServe "
                         "without an envelope, the handler reads Open Inference Protocol bodies itself"}
    return {"instances": data}


# -----------------------------------------------------------------------------
# batching


# -----------------------------------------------------------------------------
# responses


def normalise_text(text: str) -> str:
    """NFKC, trimmed, whitespace runs collapsed: the same prompt pasted twice is one cache key."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def cache_key(model_name: str, model_version: str, text: str) -> str:
    digest = hashlib.sha256(normalise_text(text).encode("utf-8")).hexdigest()
    return f"{model_name}:{model_version}:{digest}"


def cached_prediction(raw, intents: list[str], model_version: str) -> dict | None:
    """A cached value decoded and checked against the response object's shape; None (a miss) if
    it is not one. Redis is shared with whoever can reach it: its values are input, not truth."""
    try:
        value = json.loads(raw)
    except (TypeError, ValueError, RecursionError):
        return None
    number = (int, float)
    if not (
        isinstance(value, dict)
        and value.get("intent") in intents
        and value.get("model_version") == model_version
        and isinstance(value.get("confidence"), number)
        and isinstance(value.get("complexity"), dict)
        and isinstance(value["complexity"].get("level"), str)
        and isinstance(value["complexity"].get("score"), number)
        and isinstance(value.get("top_intents"), list)
        and all(isinstance(t, dict) and t.get("intent") in intents for t in value["top_intents"])
        and isinstance(value.get("all_intents"), dict)
        and set(value["all_intents"]) == set(intents)
        and all(isinstance(p, number) for p in value["all_intents"].values())
        and isinstance(value.get("suggested_techniques"), list)
    ):
        return None
    return value


def merge_subwords(word_ids: list[int | None], offsets: list[tuple[int, int]], scores: np.ndarray, text: str) -> list[dict]:
    """Token attributions -> one entry per word of `text` (special tokens dropped, subwords summed).
    Sentencepiece tokenizers (DeBERTa-v3) count the space before a word into its first piece's
    offsets: spans start at the word itself."""
    words: dict[int, dict] = {}
    for token, word in enumerate(word_ids):
        if word is None:
            continue
        start, end = offsets[token]
        while start < end and text[start].isspace():
            start += 1
        entry = words.setdefault(word, {"start": start, "end": end, "score": 0.0})
        entry["start"], entry["end"] = min(entry["start"], start), max(entry["end"], end)
        entry["score"] += float(scores[token])
    return [
        {"word": text[w["start"] : w["end"]], "start": w["start"], "end": w["end"], "attribution": round(w["score"], 6)}
        for _, w in sorted(words.items())
    ]


@contextlib.contextmanager
def explain_slot(directory: Path, name: str, slots: int):
    """Yields True while this process holds one of `slots` cross-process locks (files in directory),
    False when other workers hold them all; slots <= 0: no limit. Why: a worker explaining is busy
    for seconds, and predictions must always find a worker that is not."""
    if slots <= 0:
        yield True
        return
    import fcntl

    for slot in range(slots):
        with open(directory / f"{name}.explain-{slot}.lock", "a") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)
            return
    yield False


def lower_thread_priority(nice: int) -> None:
    """Give the calling thread (Linux: a thread is scheduled on its own) niceness `nice`. Why: an
    explanation keeps a core busy for seconds; at nice 19 the scheduler hands that core to a
    prediction the moment one is runnable, so predictions do not queue behind explanations for CPU."""
    with contextlib.suppress(OSError, AttributeError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)


def start_background_writer(write, name: str) -> queue.Queue:
    """A daemon thread that calls write(entries) for dicts put on the returned queue, merging what
    waits. Why: a Redis SET on the request path is a round trip to a server that must be scheduled
    on the same 2 busy cores; moved here, c=16 throughput rose ~7 % (README "Serving")."""
    pending: queue.Queue = queue.Queue(maxsize=CACHE_WRITE_QUEUE)

    def loop() -> None:
        while True:
            entries, done = dict(pending.get()), 1
            while True:
                try:
                    entries.update(pending.get_nowait())
                    done += 1
                except queue.Empty:
                    break
            try:
                write(entries)
            finally:
                for _ in range(done):
                    pending.task_done()

    threading.Thread(target=loop, name=name, daemon=True).start()
    return pending


# -----------------------------------------------------------------------------
# the handler


class IntentHandler:
    """initialize once per worker; handle(batch) -> one answer per request row, in order."""

    def __init__(self):
        self.initialized = False

    # --- loading ------------------------------------------------------------

    def initialize(self, context) -> None:
        self.context = context
        model_dir = Path(context.system_properties["model_dir"])
        self.model_dir = model_dir
        self.settings = s = handler_settings(getattr(context, "model_yaml_config", None))
        torch.set_num_threads(s["torch_threads"])
        manifest = context.manifest or {}
        self.model_name = manifest.get("model", {}).get("modelName") or context.model_name
        self.model_version = str(manifest.get("model", {}).get("modelVersion") or "unversioned")

        served = ServedModel.load(model_dir, s)  # the pyfunc loads the same way (model_src.runtime)
        self.model, self.base_tokenizer, self.temperature = served.model, served.tokenizer, served.temperature
        self.intents, self.levels, self.feature_names = served.intents, served.levels, served.feature_names
        self.max_length, self.use_token_types, self.pad_id = served.max_length, served.use_token_types, served.pad_id
        self.served, self.run, self.run_single = served, served.run, served.run_single

        self.redis = None
        self.redis_retry_at = 0.0
        self.clock = time.monotonic  # explanation deadlines (tests drive their own)
        self.explain_lock_dir = Path(tempfile.gettempdir())  # TorchServe's, one per server instance: shared by its workers
        self.cache_writes = start_background_writer(self._write_cache, "redis-cache-writer")
        self.metrics = self._register_metrics(context)
        self.tokenizers = threading.local()  # a fast tokenizer is not safe across threads: one per thread
        self.tokenizers.own = self.base_tokenizer
        self.explaining = False  # async mode: one explanation at a time in this worker
        if s["async_mode"]:
            from model_src.coalescer import Coalescer

            self.coalescer = Coalescer(self.predict_cached, ThreadPoolExecutor(1, thread_name_prefix="predict"),
                                       on_batch=lambda n: self._metric("batch_requests", n))
            self.explain_executor = ThreadPoolExecutor(1, thread_name_prefix="explain", initializer=lower_thread_priority,
                                                       initargs=(s["explain_nice"],))
        # Captum hooks the embedding layer of the model it explains for the whole attribution: with
        # predictions running beside it (async mode, runtime torch) they must not go through that model
        self.explain_model = copy.deepcopy(self.model) if s["async_mode"] and s["runtime"] == "torch" else self.model
        self.prediction_log = self._prediction_logger(s["monitor"])
        self.initialized = True
        logger.info(
            "intent_classifier %s ready: runtime=%s temperature=%.3f cache=%s prediction_log=%s",
            self.model_version,
            s["runtime"],
            self.temperature,
            bool(s["cache_enabled"] and s["redis_url"]),
            self.prediction_log is not None,
        )

    def _register_metrics(self, context) -> dict:
        """Custom metrics, exported on the metrics port (needs model_metrics_auto_detect=true)."""
        from ts.metrics.metric_type_enum import MetricTypes

        dims = ["ModelName", "ModelVersion"]
        add = context.metrics.add_metric_to_cache
        return {
            "cache_hits": add("intent_cache_hits", "count", dims, MetricTypes.COUNTER),
            "cache_misses": add("intent_cache_misses", "count", dims, MetricTypes.COUNTER),
            "cache_unavailable": add("intent_cache_unavailable", "count", dims, MetricTypes.COUNTER),
            "rows_rejected": add("intent_rows_rejected", "count", dims, MetricTypes.COUNTER),
            "predictions": add("intent_predictions", "count", [*dims, "intent"], MetricTypes.COUNTER),
            "confidence": add("intent_confidence", "ratio", dims, MetricTypes.HISTOGRAM),
            # requests TorchServe's batcher put into one handle() call: shows what max_batch_delay buys
            "batch_requests": add("intent_batch_requests", "count", dims, MetricTypes.HISTOGRAM),
            # seconds one handle() call takes: TorchServe exports no latency histogram, the p95 alert reads this
            "handler_seconds": add("intent_handler_seconds", "seconds", dims, MetricTypes.HISTOGRAM),
        }

    def _metric(self, name: str, value: float, *extra_dims: str) -> None:
        self.metrics[name].add_or_update(value, [self.model_name, self.model_version, *extra_dims])

    @staticmethod
    def _prediction_logger(monitor: dict):
        """model_src.prediction_log when it was archived and is enabled; None otherwise."""
        try:
            from model_src.prediction_log import PredictionLogger
        except ImportError:
            return None
        try:
            return PredictionLogger.from_params({"monitor": monitor})
        except (OSError, ValueError) as exc:
            logger.warning("prediction log disabled: %s", exc)
            return None

    # --- cache --------------------------------------------------------------

    def _redis(self):
        """A Redis client, or None while Redis is off, down, or inside its retry back-off."""
        s = self.settings
        if not (s["cache_enabled"] and s["redis_url"]) or time.monotonic() < self.redis_retry_at:
            return None
        if self.redis is None:
            import redis

            try:  # the password file is read here, not logged or passed on a command line
                password = Path(s["redis_password_file"]).read_text(encoding="utf-8").strip() if s["redis_password_file"] else None
            except OSError as exc:
                self._cache_failed(exc, 0)
                return None
            self.redis = redis.Redis.from_url(s["redis_url"], password=password, socket_timeout=0.05, socket_connect_timeout=0.05)
        return self.redis

    def _cache_failed(self, exc: Exception, rows: int) -> None:
        logger.warning("redis unavailable, serving without cache for %.0fs: %s", CACHE_RETRY_SECONDS, exc)
        self.redis_retry_at = time.monotonic() + CACHE_RETRY_SECONDS
        self._metric("cache_unavailable", rows)

    def cache_get(self, keys: list[str]) -> list[dict | None]:
        client = self._redis()
        if client is None or not keys:
            return [None] * len(keys)
        try:
            values = client.mget(keys)
        except Exception as exc:  # noqa: BLE001 - any Redis/network failure means "no cache"
            self._cache_failed(exc, len(keys))
            return [None] * len(keys)
        return [None if v is None else cached_prediction(v, self.intents, self.model_version) for v in values]

    def cache_put(self, entries: dict[str, dict]) -> None:
        """Fresh results to Redis: a lone row's now, a batch's through the writer thread.

        Under load a round trip waits for a Redis server that shares the busy cores, so batches
        hand their writes to the background thread; a lone row (low load) writes at once, because
        a woken writer thread would compete for the GIL while the response is being sent.
        """
        if not entries or self._redis() is None:
            return
        if len(entries) == 1:
            self._write_cache(entries)
            return
        try:
            self.cache_writes.put_nowait(entries)
        except queue.Full:  # Redis slower than the traffic: these results are simply not cached
            pass

    def _write_cache(self, entries: dict[str, dict]) -> None:
        client = self._redis()
        if client is None:
            return
        try:
            pipe = client.pipeline(transaction=False)
            for key, value in entries.items():
                pipe.set(key, json.dumps(value), ex=self.settings["cache_ttl"])
            pipe.execute()
        except Exception as exc:  # noqa: BLE001
            self._cache_failed(exc, len(entries))

    def cache_flush(self) -> None:
        """Wait until queued results are written (tests, shutdown)."""
        self.cache_writes.join()

    # --- model --------------------------------------------------------------

    @property
    def tokenizer(self):
        """This thread's tokenizer (a copy of the archive's for every thread after the first)."""
        own = getattr(self.tokenizers, "own", None)
        if own is None:
            own = self.tokenizers.own = copy.deepcopy(self.base_tokenizer)
        return own

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]

    def features(self, texts: list[str]) -> np.ndarray | None:
        return self.served.features(texts)

    def predict_texts(self, texts: list[str]) -> list[dict]:
        """Uncached predictions for texts, computed in length buckets; input order kept."""
        s = self.settings
        ids = self.tokenize(texts)
        feats = self.features(texts)
        # a lone row is what low load looks like: the other core is idle, so it gets more threads
        run = self.run_single if len(texts) == 1 else self.run
        probs, level_probs, scores = bucketed_forward(
            ids, feats, run, temperature=self.temperature, pad_id=self.pad_id,
            max_rows=s["bucket_max_rows"], max_ratio=s["bucket_max_ratio"],
        )
        out = build_answers(probs, level_probs, scores, intents=self.intents, levels=self.levels,
                            settings=s, model_version=self.model_version)
        self.log_predictions(texts, out, feats)
        return out

    def log_predictions(self, texts: list[str], predictions: list[dict], feats: np.ndarray | None) -> None:
        """Sample predictions into the prediction log (cache hits too: drift sees all traffic)."""
        if self.prediction_log is None:
            return
        for i, (text, out) in enumerate(zip(texts, predictions, strict=True)):
            self.prediction_log.log(
                text=text,
                model_version=self.model_version,
                intent=out["intent"],
                confidence=out["confidence"],
                complexity=out["complexity"],
                features=dict(zip(self.feature_names, feats[i].tolist(), strict=True)) if feats is not None else None,
                probabilities=out["all_intents"],
                cached=out["cached"],
            )

    def predict_cached(self, texts: list[str]) -> list[dict]:
        """Predictions with the Redis cache in front: hits are marked cached=true."""
        keys = [cache_key(self.model_name, self.model_version, t) for t in texts]
        found = self.cache_get(keys)
        misses = [i for i, hit in enumerate(found) if hit is None]
        hits = len(texts) - len(misses)
        if hits:
            self._metric("cache_hits", hits)
        if misses:
            self._metric("cache_misses", len(misses))
            fresh = self.predict_texts([texts[i] for i in misses])
            self.cache_put({keys[i]: p for i, p in zip(misses, fresh, strict=True)})
            for i, p in zip(misses, fresh, strict=True):
                found[i] = p
        missed = set(misses)
        hit_rows = [i for i in range(len(texts)) if i not in missed]
        for i in hit_rows:
            found[i]["cached"] = True
        if hit_rows and self.prediction_log is not None:
            hit_texts = [texts[i] for i in hit_rows]
            self.log_predictions(hit_texts, [found[i] for i in hit_rows], self.features(hit_texts))
        return found

    def explain_text(self, text: str, target_intent: str | None, n_steps: int, deadline: float | None = None) -> dict:
        """Prediction + per-word LayerIntegratedGradients attributions for the predicted or asked intent.

        Past `deadline` (on self.clock) the next chunk of `explain_internal_batch_size` steps
        raises TimeoutError instead of running: on a busy box one text alone can outlast
        TorchServe's response timeout. (Not a class of our own: TorchServe accepts exactly one
        class in a handler file.)"""
        from captum.attr import LayerIntegratedGradients

        prediction = self.predict_texts([text])[0]
        target = target_intent or prediction["intent"]
        enc = self.tokenizer(
            [text], truncation=True, max_length=self.max_length, return_offsets_mapping=self.tokenizer.is_fast
        )
        input_ids = torch.tensor(enc["input_ids"])  # (1, T)
        mask = torch.ones_like(input_ids)
        special = torch.tensor(self.tokenizer.get_special_tokens_mask(enc["input_ids"][0], already_has_special_tokens=True))
        baseline = torch.where(special.bool(), input_ids[0], torch.full_like(input_ids[0], self.pad_id)).unsqueeze(0)
        token_types = torch.zeros_like(input_ids) if self.use_token_types else None
        feats = self.features([text])
        feats_t = torch.from_numpy(feats) if feats is not None else None

        def forward(ids, attention_mask, token_type_ids, features):
            if deadline is not None and self.clock() > deadline:
                raise TimeoutError("explanation deadline")
            reps = ids.shape[0]
            logits, _, _ = self.explain_model(
                ids,
                attention_mask.expand(reps, -1),
                token_type_ids.expand(reps, -1) if token_type_ids is not None else None,
                features.expand(reps, -1) if features is not None else None,
            )
            return (logits / self.temperature).softmax(-1)

        lig = LayerIntegratedGradients(forward, self.explain_model.encoder.embeddings)
        attributions, delta = lig.attribute(
            input_ids,
            baselines=baseline,
            target=self.intents.index(target),
            additional_forward_args=(mask, token_types, feats_t),
            n_steps=n_steps,
            internal_batch_size=self.settings["explain_internal_batch_size"],  # bounds memory per forward
            return_convergence_delta=True,
        )
        scores = attributions.sum(-1)[0]  # (T,) summed over the hidden size
        scores = (scores / scores.norm().clamp(min=1e-12)).detach().numpy()
        if self.tokenizer.is_fast:
            words = merge_subwords(enc.word_ids(0), enc["offset_mapping"][0], scores, text)
        else:  # slow (sentencepiece) tokenizers have no word ids: report tokens
            tokens = self.tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
            words = [
                {"word": tok, "attribution": round(float(sc), 6)}
                for tok, sc, sp in zip(tokens, scores, special.tolist(), strict=True)
                if not sp
            ]
        prediction["explanation"] = {
            "target_intent": target,
            "method": "layer_integrated_gradients",
            "layer": "encoder.embeddings",
            "n_steps": n_steps,
            "convergence_delta": round(float(delta.abs().max()), 6),
            "words": words,
        }
        return prediction

    # --- TorchServe entry point -----------------------------------------------

    def handle(self, data: list, context):
        """One answer per request row, in order; a bad row gets its own 4xx, a failed row its own 5xx.
        In async mode a coroutine of the same (TorchServe's async worker awaits what handle returns)."""
        if self.settings["async_mode"]:
            return self.handle_async(data, context)
        started = time.perf_counter()
        deadline = self.clock() + self.settings["explain_deadline"]
        envelope, parsed = self.parse_rows(data, context)
        self._metric("batch_requests", len(parsed))
        results: dict[tuple[int, int], dict] = {}
        self.predict_rows(parsed, results)
        self.explain_rows(parsed, results, deadline)
        return self.answer_rows(parsed, results, context, envelope, started)

    async def handle_async(self, data: list, context) -> list:
        """handle() in TorchServe's asynchronous mode: predictions through the coalescer, explanations
        on their own low-priority thread (one at a time per worker; more answer 503 at once)."""
        started = time.perf_counter()
        deadline = self.clock() + self.settings["explain_deadline"]
        envelope, parsed = self.parse_rows(data, context)
        results: dict[tuple[int, int], dict] = {}
        await self.predict_rows_async(parsed, results)
        if any("items" in req and req["explain"] for req in parsed):
            if self.explaining:
                for r, req in enumerate(parsed):
                    if "items" in req and req["explain"]:
                        parsed[r] = error_body("this worker is explaining another request: retry", 503)
            else:
                self.explaining = True
                try:
                    await asyncio.get_running_loop().run_in_executor(
                        self.explain_executor, self.explain_rows, parsed, results, deadline)
                finally:
                    self.explaining = False
        return self.answer_rows(parsed, results, context, envelope, started)

    def parse_rows(self, data: list, context) -> tuple[dict | None, list[dict]]:
        """(the envelope's body or None, one parsed request per row; see parse_request)."""
        s = self.settings
        envelope = enveloped_body(data)
        # an envelope hands over one request already unpacked: its headers are those of request 0
        rows = data if envelope is None else [{"body": envelope}]
        parsed = []
        for idx, row in enumerate(rows):
            explain = str(context.get_request_header(idx, "explain")) == "True"
            content_type = context.get_request_header(idx, "Content-Type") or context.get_request_header(idx, "content-type")
            body = request_body(row)
            request = body if isinstance(body, dict) and "error" in body else parse_request(
                body,
                content_type,
                max_chars=s["max_chars"],
                max_texts=s["max_texts"],
                intents=self.intents,
                explain=explain,
                n_steps_default=min(s["n_steps"], s["n_steps_max"]),
                n_steps_max=s["n_steps_max"],
                max_explain_texts=s["max_explain_texts"],
            )
            request["explain"] = explain
            parsed.append(request)
        return envelope, parsed

    def answer_rows(self, parsed: list[dict], results: dict, context, envelope: dict | None, started: float) -> list:
        """The response of each row (statuses set on context), metrics counted."""
        answers, rejected, per_intent = [], 0, {}
        for r, req in enumerate(parsed):
            try:
                answer = self.answer_row(req, [results.get((r, j)) for j in range(len(req.get("items", [])))])
            except Exception as exc:  # noqa: BLE001 - one broken row must not 503 the batch
                logger.exception("answering row %d failed", r)
                req = parsed[r] = error_body(f"prediction failed: {type(exc).__name__}", 500)
            if "error" in req:
                code = req.get("code", 400)
                rejected += code < 500
                context.set_response_status(code, reason_phrase(req["error"]), r)
                answers.append(error_body(req["error"], code))
                continue
            items = answer if req["is_list"] else [answer]
            for item in items:
                if "error" in item:
                    rejected += item["code"] < 500
                else:
                    per_intent[item["intent"]] = per_intent.get(item["intent"], 0) + 1
                    self._metric("confidence", item["confidence"])
            if req.get("protocol") == "v1" and envelope is None:
                answers.append({"explanations" if req["explain"] else "predictions": items})
            elif req.get("protocol") == "v2":
                answers.append(v2_response(items, self.model_name, self.model_version, req["request_id"]))
            else:  # native, or v1 inside the envelope, which adds {"predictions": ...} itself
                answers.append(answer)
        if rejected:
            self._metric("rows_rejected", rejected)
        for intent, count in per_intent.items():
            self._metric("predictions", count, intent)
        self._metric("handler_seconds", time.perf_counter() - started)
        if envelope is not None and isinstance(answers[0], list):
            return answers[0]  # the envelope wraps the instances' answers into one response
        return answers

    @staticmethod
    def prediction_keys(parsed: list[dict]) -> list[tuple[int, int]]:
        """(row, item) of every text to predict: valid items of prediction (not explanation) rows."""
        return [
            (r, j) for r, req in enumerate(parsed) if "items" in req and not req["explain"]
            for j, item in enumerate(req["items"]) if isinstance(item, str)
        ]

    async def predict_rows_async(self, parsed: list[dict], results: dict) -> None:
        """predict_rows through the coalescer (the texts ride a forward with other requests')."""
        to_predict = self.prediction_keys(parsed)
        if not to_predict:
            return
        try:
            predictions = await self.coalescer.submit([parsed[r]["items"][j] for r, j in to_predict])
            results.update(zip(to_predict, predictions, strict=True))
            return
        except Exception:  # noqa: BLE001
            logger.exception("prediction failed, predicting row by row")
        for r in sorted({r for r, _ in to_predict}):
            keys = [(row, j) for row, j in to_predict if row == r]
            try:
                predictions = await self.coalescer.submit([parsed[r]["items"][j] for _, j in keys])
                results.update(zip(keys, predictions, strict=True))
            except Exception as exc:  # noqa: BLE001
                logger.exception("prediction of row %d failed", r)
                parsed[r] = error_body(f"prediction failed: {type(exc).__name__}", 500)

    def predict_rows(self, parsed: list[dict], results: dict) -> None:
        """Predictions of every prediction row, the whole batch together (length-bucketed); if
        that fails, row by row, so one row's failure answers that row 500 and the rest normally."""
        to_predict = self.prediction_keys(parsed)
        if not to_predict:
            return
        try:
            predictions = self.predict_cached([parsed[r]["items"][j] for r, j in to_predict])
            results.update(zip(to_predict, predictions, strict=True))
            return
        except Exception:  # noqa: BLE001
            logger.exception("batch prediction failed, predicting row by row")
        for r in sorted({r for r, _ in to_predict}):
            keys = [(row, j) for row, j in to_predict if row == r]
            try:
                results.update(zip(keys, self.predict_cached([parsed[r]["items"][j] for _, j in keys]), strict=True))
            except Exception as exc:  # noqa: BLE001
                logger.exception("prediction of row %d failed", r)
                parsed[r] = error_body(f"prediction failed: {type(exc).__name__}", 500)

    def explain_rows(self, parsed: list[dict], results: dict, deadline: float) -> None:
        """Explanations one text at a time, bounded so a handle() call ends well inside TorchServe's
        response timeout (past it the worker is killed, and every row of its batch with it):
        - a request costing more than `explain_budget_token_steps` (n_steps x tokens, summed over its
          texts) gets a 400 naming the numbers: it could never be done;
        - requests after the batch's budget is spent get a 503 (retry: another call has budget);
        - past `explain_deadline_seconds` (a slow box) the running text stops at its next chunk of
          `explain_internal_batch_size` integration steps, and it and the texts after it get a 503;
        - at most `explain_workers` workers explain at once; the others answer explanations 503,
          so a flood of explanations leaves workers free for predictions.
        Prediction rows of the batch were answered before, so they never get these statuses."""
        s = self.settings
        rows = []
        for r, req in enumerate(parsed):
            if "items" not in req or not req["explain"]:
                continue
            texts = [item for item in req["items"] if isinstance(item, str)]
            req["cost"] = req["n_steps"] * sum(len(ids) for ids in self.tokenize(texts)) if texts else 0
            if req["cost"] > s["explain_budget"]:
                parsed[r] = error_body(
                    f"this explanation costs {req['cost']} token-steps (n_steps x tokens, summed over the texts), "
                    f"the limit is {s['explain_budget']}: lower n_steps or send fewer or shorter texts"
                )
            else:
                rows.append(r)
        if not rows:
            return
        with explain_slot(self.explain_lock_dir, f"{self.model_name}-{self.model_version}", s["explain_workers"]) as got_slot:
            if not got_slot:
                for r in rows:
                    parsed[r] = error_body("every explanation slot is busy on other workers: retry", 503)
                return
            self._explain_within_budget(parsed, rows, results, deadline)

    def _explain_within_budget(self, parsed: list[dict], rows: list[int], results: dict, deadline: float) -> None:
        s = self.settings
        spent = 0
        for r in rows:
            req = parsed[r]
            texts = [(j, item) for j, item in enumerate(req["items"]) if isinstance(item, str)]
            if spent + req["cost"] > s["explain_budget"]:
                parsed[r] = error_body("explanation capacity of this batch is taken by other requests: retry", 503)
                continue
            spent += req["cost"]
            late = error_body(f"explanation not done within {s['explain_deadline']:g} s (server busy): retry", 503)
            try:
                for j, text in texts:
                    try:
                        results[(r, j)] = self.explain_text(text, req["target_intent"], req["n_steps"], deadline)
                    except TimeoutError:
                        results[(r, j)] = late
            except Exception as exc:  # noqa: BLE001 - one failed explanation must not 503 the batch
                logger.exception("explanation failed")
                parsed[r] = error_body(f"explanation failed: {type(exc).__name__}", 500)
                continue
            if texts and all(results[(r, j)] is late for j, _ in texts):
                parsed[r] = late

    @staticmethod
    def answer_row(req: dict, results: list[dict | None]) -> dict | list:
        """The answer of one parsed request: its items' results, error objects marked with their index."""
        if "error" in req:
            return req
        items = []
        for j, (item, result) in enumerate(zip(req["items"], results, strict=True)):
            item = item if isinstance(item, dict) else result
            items.append({**item, "index": j} if "error" in item else item)
        return items if req["is_list"] else items[0]
