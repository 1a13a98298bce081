"""Shared by the canary and retrain-deploy integration tests: a client loop through the proxy that
counts every outcome, and small readers of what TorchServe serves."""

from __future__ import annotations

import collections
import json
import threading

from pipeline.client import IntentClient

MODEL = "intent_classifier"
LONG_TEXT = "go " * 700  # 700 tokens (> the encoder's 512 positions) in 2,100 characters (< max_text_chars)


class ClientLoop:
    """Sends prompts through the proxy's unversioned URL until stopped; counts every outcome."""

    def __init__(self, url: str, client: IntentClient, long_every: int = 0):
        self.url, self.client, self.long_every = url, client, long_every
        self.outcomes: collections.Counter = collections.Counter()
        self.failures: list[tuple[str, str]] = []  # (version or error, detail)
        self.versions_seen: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            text = LONG_TEXT if self.long_every and i % self.long_every == 0 else f"write a short poem about rollout number {i}"
            reply = self.client.request("POST", self.url, json={"text": text})
            response = reply.response
            if response is None:
                self.outcomes["exception"] += 1
                self.failures.append(("exception", reply.error))
                continue
            version = response.headers.get("X-Model-Version", "?")
            self.outcomes[f"{response.status_code} v{version}"] += 1
            self.versions_seen.append(version)
            if response.status_code != 200:
                self.failures.append((version, f"{response.status_code} {response.text[:120]}"))
            elif response.json().get("model_version") != version:
                self.failures.append((version, f"header says {version}, body says {response.json().get('model_version')}"))

    def __enter__(self) -> ClientLoop:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=60)

    @property
    def total(self) -> int:
        return sum(self.outcomes.values())


def report(record_property, name: str, client: ClientLoop) -> None:
    summary = {"requests": client.total, "failed": len(client.failures), "outcomes": dict(client.outcomes)}
    print(f"\n[{name}] client loop: {json.dumps(summary)}")
    record_property(name, json.dumps(summary))


def registered_versions(ts) -> set[str]:
    return {d["modelVersion"] for d in ts.describe(MODEL)}
