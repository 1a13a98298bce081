"""Mixed client traffic for the soak run, through the canary proxy: single predictions, `texts`
batches, explanations and bad requests, each logical request recorded once with its final outcome
(pipeline.client retries 5xx and dropped connections and re-reads renewed tokens)."""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field

from pipeline.client import IntentClient
from pipeline.reliability.scenarios import PROMPTS
from pipeline.reliability.soak_schedule import SoakCall

BAD_BODIES = (b"", b"{not json", json.dumps({"text": ""}).encode(), json.dumps({"texts": []}).encode())
FLOOD_TEXT = " ".join(PROMPTS)  # a long explanation: the expensive kind


@dataclass(frozen=True)
class TrafficMix:
    """Share of each request kind (params soak.mix) and the size of a batch request."""

    predict: float
    batch: float
    explain: float
    bad: float
    batch_texts: int = 10

    def pick(self, rng: random.Random) -> str:
        return rng.choices(("predict", "batch", "explain", "bad"), (self.predict, self.batch, self.explain, self.bad))[0]


@dataclass
class Traffic:
    """`concurrency` closed-loop clients (think time between requests) until stop() or max_requests."""

    client: IntentClient
    model: str
    mix: TrafficMix
    concurrency: int = 8
    think_s: float = 0.01
    max_requests: int = 5_000_000
    seed: int = 0
    t0: float = field(default_factory=time.monotonic)
    calls: list[SoakCall] = field(default_factory=list, init=False)
    sent: int = field(default=0, init=False)
    _stop: threading.Event = field(default_factory=threading.Event, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def request(self, kind: str, rng: random.Random) -> SoakCall:
        """Send one request of `kind` and record it (counted as sent before it goes out)."""
        if kind == "batch":
            path, body = f"predictions/{self.model}", {"texts": rng.sample(PROMPTS, k=min(self.mix.batch_texts, len(PROMPTS)))}
        elif kind in ("explain", "flood"):
            path, body = f"explanations/{self.model}", {"text": FLOOD_TEXT if kind == "flood" else rng.choice(PROMPTS)}
        elif kind == "bad":
            path, body = f"predictions/{self.model}", None
        else:
            path, body = f"predictions/{self.model}", {"text": f"{rng.choice(PROMPTS)} (#{rng.randrange(50)})"}
        data = rng.choice(BAD_BODIES) if body is None else json.dumps(body).encode()
        with self._lock:
            self.sent += 1
        started = self.now()
        try:
            reply = self.client.request("POST", path, data=data, headers={"Content-Type": "application/json"})
        except Exception as exc:  # noqa: BLE001 - e.g. the key file unreadable mid-restart: recorded as lost, the client goes on
            call = SoakCall(kind, started, self.now(), None, 1, f"{type(exc).__name__}: {exc}")
            with self._lock:
                self.calls.append(call)
            return call
        call = SoakCall(kind, started, self.now(), reply.status, reply.attempts, reply.error)
        if reply.status == 200 and kind == "predict":
            try:
                answer = reply.response.json()
                call = SoakCall(kind, call.started, call.finished, call.status, call.attempts, None,
                                answer.get("cached"), answer.get("model_version"))
            except ValueError:
                pass
        with self._lock:
            self.calls.append(call)
        return call

    def _loop(self, seed: int, kind: str | None, until: float | None, pause_s: float) -> None:
        rng = random.Random(seed)
        while not self._stop.is_set() and (until is None or self.now() < until):
            with self._lock:
                if self.sent >= self.max_requests:
                    return
            self.request(kind or self.mix.pick(rng), rng)
            if pause_s:
                time.sleep(pause_s)

    def start(self) -> Traffic:
        self._threads = [threading.Thread(target=self._loop, args=(self.seed + i, None, None, self.think_s), daemon=True)
                         for i in range(self.concurrency)]
        for thread in self._threads:
            thread.start()
        return self

    def flood(self, threads: int, seconds: float, pause_s: float = 0.05) -> None:
        """Extra clients sending long explanations for `seconds`, `pause_s` apart (blocking); nginx
        answers most with 429 at once, the pause keeps those from swamping the counts."""
        until = self.now() + seconds
        flooders = [threading.Thread(target=self._loop, args=(10_000 + i, "flood", until, pause_s), daemon=True)
                    for i in range(threads)]
        for thread in flooders:
            thread.start()
        for thread in flooders:
            thread.join()

    def answered_since(self, t: float, **match) -> bool:
        """A 2xx prediction started at or after t (seconds after the start) with these fields."""
        with self._lock:
            return any(c.started >= t and c.status == 200 and c.kind == "predict" and
                       all(getattr(c, k) == v for k, v in match.items()) for c in self.calls)

    def stop(self, timeout: float = 300.0) -> list[SoakCall]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        with self._lock:
            return sorted(self.calls, key=lambda c: c.started)
