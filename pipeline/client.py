"""Python client of the served intent classifier: typed answers, retries, tokens that renew.

    from pipeline.client import IntentClient
    client = IntentClient("http://127.0.0.1:8080", token_file="run/torchserve/key_file.json")
    client.predict("Write a haiku about rain").intent                 # 'creative_writing'
    [p.intent for p in client.predict_many(texts)]                     # chunks of <= 100 texts per request
    client.explain("Fix this code: ...", target="code_generation").words

Why a client and not bare requests: TorchServe tokens expire and the renewer
(pipeline/services/token_renewer.py) replaces them in key_file.json, so a token read once goes
stale. Every call here reads the token from the key file, and on a token refusal (TorchServe
answers 400 with InvalidKeyException; 401 from a proxy) re-reads the file and retries once.
503 (and whatever `retry_statuses` adds), rows of a worker that died ("Worker died.", whatever
the status) and dropped connections are retried with back-off;
any other 4xx raises ClientError carrying the server's message. The project's own load
generators (reliability scenarios, rollout probes, benchmark) use `IntentClient.request`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

CHUNK = 100  # texts per request: the handler's serve.max_batch_texts
TOKEN_REFUSED = "InvalidKeyException"  # TorchServe's error type for a missing, wrong or expired token
# TorchServe's message for the rows of a batch whose worker process died; the status varies (500,
# 507 measured after a SIGKILL, 413 when it reads exit code 137 as out of memory)
WORKER_DIED = "Worker died."


class ClientError(Exception):
    """The server refused the request (4xx) or kept failing (5xx after the retries)."""

    def __init__(self, status: int | None, message: str, body: str = ""):
        super().__init__(f"HTTP {status}: {message}" if status is not None else message)
        self.status, self.message, self.body = status, message, body


def server_message(response: requests.Response) -> str:
    """The `message` / `error` of a TorchServe or handler error body, else the body text (bounded)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500] or response.reason or ""
    if isinstance(body, dict):
        return str(body.get("message") or body.get("error") or body)[:500]
    return str(body)[:500]


def error_body(body: bytes) -> dict:
    """A JSON error object ({"code", "type", "message"} from TorchServe), or {} for anything else."""
    try:
        error = json.loads(body)
    except ValueError:
        return {}
    return error if isinstance(error, dict) else {}


def token_refused(status: int, body: bytes) -> bool:
    """A 401, or TorchServe's 400 for a token it does not accept (not a bad request body)."""
    return status == 401 or (status == 400 and error_body(body).get("type") == TOKEN_REFUSED)


def worker_died(status: int, body: bytes) -> bool:
    """The request reached a worker that died under it: safe to send again (a prediction changes nothing)."""
    return status >= 400 and error_body(body).get("message") == WORKER_DIED


class TokenFile:
    """One API's key from TorchServe's key_file.json, re-read when the server refuses it."""

    def __init__(self, path: Path | str, api: str = "inference", settle_s: float = 3.0):
        self.path, self.api, self.settle_s = Path(path), api, settle_s
        self._key: str | None = None
        self._lock = threading.Lock()

    def read(self) -> str:
        """The key as the file holds it now. TorchServe rewrites the file in place (truncate, write),
        so an empty or half-written file is read again rather than trusted."""
        deadline = time.monotonic() + self.settle_s
        while True:
            try:
                return json.loads(self.path.read_text(encoding="utf-8"))[self.api]["key"]
            except (ValueError, KeyError, TypeError, FileNotFoundError):
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.05)

    def current(self) -> str:
        with self._lock:
            if self._key is None:
                self._key = self.read()
            return self._key

    def refresh(self, refused: str) -> str:
        """A key other than `refused`: the server swaps its key before it rewrites the file, so wait
        up to settle_s for the file to catch up; the same key after that is returned as is."""
        deadline = time.monotonic() + self.settle_s
        while True:
            key = self.read()
            if key != refused or time.monotonic() >= deadline:
                with self._lock:
                    self._key = key
                return key
            time.sleep(0.05)


@dataclass
class Reply:
    """The final outcome of one call: the last response (None if none came) and what it took."""

    response: requests.Response | None
    attempts: int = 1
    token_rereads: int = 0
    error: str | None = None  # client-side error of the last attempt (connection reset, timeout)

    @property
    def status(self) -> int | None:
        return self.response.status_code if self.response is not None else None


# -- typed answers ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class IntentScore:
    intent: str
    confidence: float


@dataclass(frozen=True)
class Complexity:
    level: str
    score: float


@dataclass(frozen=True)
class Prediction:
    intent: str
    confidence: float
    complexity: Complexity
    top_intents: list[IntentScore]
    all_intents: dict[str, float]
    suggested_techniques: list[str]
    model_version: str
    cached: bool
    low_confidence: bool | None = None

    @classmethod
    def from_json(cls, body: dict) -> Prediction:
        return cls(
            intent=body["intent"],
            confidence=float(body["confidence"]),
            complexity=Complexity(**body["complexity"]),
            top_intents=[IntentScore(t["intent"], float(t["confidence"])) for t in body.get("top_intents", [])],
            all_intents={k: float(v) for k, v in body.get("all_intents", {}).items()},
            suggested_techniques=list(body.get("suggested_techniques", [])),
            model_version=str(body.get("model_version")),
            cached=bool(body.get("cached")),
            low_confidence=body.get("low_confidence"),
        )


@dataclass(frozen=True)
class RowError:
    """One element of a `texts` request the server refused; the other elements are still answered."""

    index: int
    code: int
    error: str


@dataclass(frozen=True)
class WordAttribution:
    word: str
    attribution: float
    start: int | None = None  # character offsets; None for slow (sentencepiece) tokenizers
    end: int | None = None


@dataclass(frozen=True)
class Explanation:
    prediction: Prediction
    target_intent: str
    method: str
    n_steps: int
    convergence_delta: float | None
    words: list[WordAttribution]

    @classmethod
    def from_json(cls, body: dict) -> Explanation:
        explained = body["explanation"]
        return cls(
            prediction=Prediction.from_json(body),
            target_intent=explained["target_intent"],
            method=explained.get("method", ""),
            n_steps=int(explained.get("n_steps", 0)),
            convergence_delta=explained.get("convergence_delta"),
            words=[WordAttribution(w["word"], float(w["attribution"]), w.get("start"), w.get("end"))
                   for w in explained.get("words", [])],
        )


# -- the client --------------------------------------------------------------------------------------
@dataclass
class IntentClient:
    """Calls one TorchServe inference address (or the canary proxy in front of it)."""

    url: str
    token_file: Path | str | None = None
    model: str = "intent_classifier"
    version: str | None = None  # None: the default version (or the proxy's split)
    timeout: float = 30.0
    retries: int = 3  # further attempts on a retry status or a dropped connection
    backoff: float = 0.5  # seconds, x the attempt number
    retry_statuses: tuple[int, ...] = (503,)
    api: str = "inference"
    sleep: Callable[[float], None] = time.sleep
    _token: TokenFile | None = field(default=None, init=False, repr=False)
    _local: threading.local = field(default_factory=threading.local, init=False, repr=False)

    def __post_init__(self):
        self.url = self.url.rstrip("/")
        if self.token_file is not None:
            self._token = TokenFile(self.token_file, self.api)

    # -- low level -----------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        if not hasattr(self._local, "session"):
            self._local.session = requests.Session()
        return self._local.session

    def request(self, method: str, path: str, **kwargs) -> Reply:
        """One call with the token from the key file: re-read once when refused; retried with back-off
        on `retry_statuses` and dropped connections. Never raises for an HTTP status. `path` is
        relative to `url`, or an absolute URL (a versioned URL, the proxy)."""
        url = path if path.startswith(("http://", "https://")) else f"{self.url}/{path.lstrip('/')}"
        headers = dict(kwargs.pop("headers", None) or {})
        reply = Reply(None, attempts=0)
        key = self._token.current() if self._token else None
        while True:
            reply.attempts += 1
            if key is not None:
                headers["Authorization"] = f"Bearer {key}"
            reply.response, reply.error = None, None
            try:
                reply.response = self._session().request(method, url, headers=headers, timeout=self.timeout, **kwargs)
            except requests.RequestException as exc:
                self._local.session = requests.Session()  # the connection may be unusable now
                reply.error = type(exc).__name__
            if reply.response is not None and key is not None and token_refused(reply.status, reply.response.content):
                if reply.token_rereads:  # refused twice: a real token problem, not a renewal
                    return reply
                reply.token_rereads += 1
                key = self._token.refresh(key)
                continue
            retriable = (reply.response is None or reply.status in self.retry_statuses
                         or worker_died(reply.status, reply.response.content))
            if not retriable or reply.attempts > self.retries + reply.token_rereads:
                return reply
            self.sleep(self.backoff * (reply.attempts - reply.token_rereads))

    def _post(self, route: str, body: dict) -> object:
        path = f"{route}/{self.model}" + (f"/{self.version}" if self.version else "")
        reply = self.request("POST", path, json=body)
        if reply.response is None:
            raise ClientError(None, f"no response from {self.url} after {reply.attempts} attempts: {reply.error}")
        if reply.status != 200:
            raise ClientError(reply.status, server_message(reply.response), reply.response.text[:2000])
        try:
            return reply.response.json()
        except ValueError as exc:
            raise ClientError(200, f"answer is not JSON: {exc}", reply.response.text[:2000]) from None

    # -- the API ---------------------------------------------------------------------------------------
    def predict(self, text: str) -> Prediction:
        return Prediction.from_json(self._post("predictions", {"text": text}))

    def predict_many(self, texts: list[str]) -> list[Prediction | RowError]:
        """Answers in input order, CHUNK texts per request; a refused element is a RowError whose
        index is its position in `texts`."""
        out: list[Prediction | RowError] = []
        for start in range(0, len(texts), CHUNK):
            answers = self._post("predictions", {"texts": texts[start:start + CHUNK]})
            for offset, body in enumerate(answers):
                if "error" in body:
                    out.append(RowError(start + offset, int(body.get("code", 400)), str(body["error"])))
                else:
                    out.append(Prediction.from_json(body))
        return out

    def explain(self, text: str, target: str | None = None) -> Explanation:
        body = {"text": text} | ({"target_intent": target} if target else {})
        return Explanation.from_json(self._post("explanations", body))
