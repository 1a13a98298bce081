"""`make bench`'s load generator: wrk with pipeline/deploy/wrk_each_prompt_once.lua sends every prompt
exactly once (a second send would be a cache hit and inflate prompts/s), with the token, counts
non-200 answers as errors and stops when the last prompt is answered. Checked against a loopback
HTTP server that records what it receives; test_torchserve.py runs it against TorchServe."""

from __future__ import annotations

import json
import shutil
import threading
from collections import Counter
from http.server import ThreadingHTTPServer

import pytest

from pipeline.deploy.benchmark import wrk_throughput
from pipeline.services import LOOPBACK
from tests.http_helpers import JsonHandler

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk not installed: make system-deps")]


class Recorder(JsonHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    received: Counter
    tokens: Counter
    pings: list

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.received[body["text"]] += 1
        self.tokens[self.headers.get("Authorization")] += 1
        status = 400 if body["text"].startswith("bad") else 200
        self.reply(status, {"intent": "code_generation"} if status == 200 else {"code": 400, "message": "bad"})

    def do_GET(self):
        self.pings.append(self.path)
        self.reply(200, {"status": "Healthy"})



@pytest.fixture()
def recorder():
    handler = type("Handler", (Recorder,), {"received": Counter(), "tokens": Counter(), "pings": []})
    server = ThreadingHTTPServer((LOOPBACK, 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server, handler
    finally:
        server.shutdown()
        server.server_close()


def test_every_prompt_is_sent_exactly_once_with_the_token(recorder):
    server, handler = recorder
    texts = [f"prompt number {i} with \"quotes\" and ünïcode" for i in range(200)]
    result = wrk_throughput(server.server_address[1], "secret-token", "/predictions/m", texts, concurrency=8,
                            timeout=60)
    assert handler.received == Counter(texts)  # no prompt twice, none missing
    assert handler.tokens == Counter({"Bearer secret-token": 200})
    assert result["requests"] == 200 and result["errors"] == 0
    assert result["prompts_per_s"] == pytest.approx(200 / result["seconds"], rel=1e-3)
    assert set(handler.pings) <= {"/ping"}  # idle connections at the end only ping


def test_non_200_answers_are_counted_as_errors(recorder):
    server, handler = recorder
    texts = [f"good {i}" for i in range(30)] + [f"bad {i}" for i in range(5)]
    result = wrk_throughput(server.server_address[1], "t", "/predictions/m", texts, concurrency=4, timeout=60)
    assert result["requests"] == 35 and result["errors"] == 5
    assert sum(handler.received.values()) == 35
