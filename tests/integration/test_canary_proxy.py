"""What the canary proxy lets through, on a real nginx in front of a recording upstream (loopback).

The upstream is a small HTTP server in the test process that records every path it is asked
for, so each test can tell whether a request reached "TorchServe" or was answered by nginx:
- a CR LF in the decoded path can never write a header of its own;
- only /ping and the model's prediction/explanation routes are proxied (the rest: 404 at nginx);
- a burst above the request rate and a connection above the limit get 429 from nginx;
- a body above TorchServe's max_request_size gets 413 from nginx;
- the access log labels explanations (the rollout keeps them out of the latency it judges).
"""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from pipeline.deploy.rollout import proxy_limits
from pipeline.services import LOOPBACK, free_port, wait_until
from pipeline.services.nginx import NginxProxy, Routing, access_log_size, read_access_log

pytestmark = pytest.mark.integration
MODEL = "intent_classifier"
MAX_REQUEST_SIZE = 64 * 1024  # the TorchServe config of this module: smaller than nginx's 1m default


class RecordingUpstream:
    """Answers 200 to anything and records the paths; POSTs carrying `hold` wait for `release`."""

    def __init__(self):
        self.paths: list[str] = []
        self.holding = threading.Event()
        self.release = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _answer(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                upstream.paths.append(self.path)
                if b"hold" in body:
                    upstream.holding.set()
                    upstream.release.wait(timeout=30)
                payload = json.dumps({"path": self.path, "bytes": len(body)}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_OPTIONS = do_PUT = do_DELETE = _answer

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer((LOOPBACK, free_port()), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingUpstream:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class FakeTorchServe:
    """What proxy_limits reads of a TorchServe: its effective config.properties."""

    def __init__(self, config: Path):
        self.config = config

    def config_path(self) -> Path:
        return self.config


@pytest.fixture(scope="module")
def upstream():
    with RecordingUpstream() as server:
        yield server


def start_proxy(upstream: RecordingUpstream, prefix: Path, params: dict, **limits) -> NginxProxy:
    """A proxy whose limits come from params (overridden by `limits`) and a TorchServe config
    with max_request_size = MAX_REQUEST_SIZE, as `make canary` builds them."""
    config = prefix.parent / "config.properties"
    config.write_text(f"max_request_size={MAX_REQUEST_SIZE}\n")
    p = {**params, "rollout": {**params["rollout"], "proxy": {**params["rollout"]["proxy"]}}}
    p["rollout"]["proxy"]["limits"] = {**params["rollout"]["proxy"]["limits"], **limits}
    proxy = NginxProxy(upstream_port=upstream.port, listen_port=free_port(), prefix=prefix, model_name=MODEL,
                       limits=proxy_limits(p, FakeTorchServe(config)))
    return proxy.start(Routing("1", "2", 50))


@pytest.fixture(scope="module")
def proxy(upstream, params, tmp_path_factory):
    proxy = start_proxy(upstream, tmp_path_factory.mktemp("proxy") / "nginx", params)
    try:
        yield proxy
    finally:
        proxy.stop()


def raw_request(port: int, method: str, raw_path: str, body: bytes = b"") -> tuple[int, list[str]]:
    """`raw_path` sent exactly as written (an HTTP client would re-encode it); (status, header lines)."""
    with socket.create_connection((LOOPBACK, port), timeout=10) as sock:
        head = f"{method} {raw_path} HTTP/1.1\r\nHost: {LOOPBACK}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line, *headers = head.split("\r\n")
    return int(status_line.split()[1]), headers


def test_limits_come_from_params_and_the_body_bound_from_torchserve(proxy, params):
    assert proxy.limits.max_body_bytes == MAX_REQUEST_SIZE
    assert proxy.limits.requests_per_second == params["rollout"]["proxy"]["limits"]["requests_per_second"]
    assert f"client_max_body_size {MAX_REQUEST_SIZE};" in proxy.conf_path.read_text()


@pytest.mark.parametrize("encoded_crlf", ["%0d%0a", "%0D%0A", "%0a", "%0d"])
def test_crlf_in_the_version_cannot_add_a_header(proxy, upstream, encoded_crlf):
    status, headers = raw_request(proxy.listen_port, "GET", f"/predictions/{MODEL}/1{encoded_crlf}X-Injected:%20yes")
    assert not any(line.lower().startswith("x-injected") for line in headers), headers
    assert status == 404
    assert not any("X-Injected" in path or "%0" in path.lower() for path in upstream.paths)


def test_pinned_version_is_forwarded_with_its_own_header(proxy, upstream):
    response = requests.post(f"{proxy.url}/predictions/{MODEL}/1.2_rc-3", json={"text": "hi"}, timeout=10)
    assert response.status_code == 200
    assert response.headers["X-Model-Version"] == "1.2_rc-3"
    assert response.json()["path"] == f"/predictions/{MODEL}/1.2_rc-3"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/models"),
        ("GET", f"/models/{MODEL}"),
        ("GET", "/metrics"),
        ("OPTIONS", "/"),  # TorchServe's API description
        ("GET", "/api-description"),
        ("POST", f"/v1/models/{MODEL}:predict"),  # KServe protocol routes of the inference port
        ("POST", f"/v2/models/{MODEL}/infer"),
        ("POST", "/predictions/other_model"),
        ("POST", f"/predictions/{MODEL}/1/extra"),
    ],
)
def test_routes_other_than_ping_predictions_explanations_get_404_at_the_proxy(proxy, upstream, method, path):
    seen_before = len(upstream.paths)
    response = requests.request(method, f"{proxy.url}{path}", json={"text": "hi"}, timeout=10)
    assert response.status_code == 404
    assert upstream.paths[seen_before:] == []


@pytest.mark.parametrize(
    ("method", "path", "forwarded"),
    [
        ("GET", "/ping", "/ping"),
        ("POST", f"/predictions/{MODEL}", f"/predictions/{MODEL}/"),
        ("POST", f"/explanations/{MODEL}", f"/explanations/{MODEL}/"),
        ("POST", f"/explanations/{MODEL}/2", f"/explanations/{MODEL}/2"),
    ],
)
def test_ping_and_the_model_routes_are_proxied(proxy, method, path, forwarded):
    response = requests.request(method, f"{proxy.url}{path}", json={"text": "hi"}, timeout=10)
    assert response.status_code == 200
    assert response.json()["path"].startswith(forwarded)


def test_body_over_torchserve_max_request_size_gets_413_at_the_proxy(proxy, upstream):
    seen_before = len(upstream.paths)
    response = requests.post(f"{proxy.url}/predictions/{MODEL}", data=b"a" * (MAX_REQUEST_SIZE + 1), timeout=10)
    assert response.status_code == 413
    assert upstream.paths[seen_before:] == []
    within = requests.post(f"{proxy.url}/predictions/{MODEL}", data=b"a" * MAX_REQUEST_SIZE, timeout=10)
    assert within.status_code == 200 and within.json()["bytes"] == MAX_REQUEST_SIZE


def test_burst_over_the_request_rate_gets_429(upstream, params, tmp_path):
    burst = 3
    proxy = start_proxy(upstream, tmp_path / "nginx", params, requests_per_second=1, burst=burst)
    try:
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(
                lambda i: requests.post(f"{proxy.url}/predictions/{MODEL}", json={"text": f"burst {i}"}, timeout=10).status_code,
                range(40),
            ))
        ping = requests.get(f"{proxy.url}/ping", timeout=10).status_code
    finally:
        proxy.stop()
    print(f"\n[rate limit 1 r/s, burst {burst}] 40 requests at once: 200 x {statuses.count(200)}, 429 x {statuses.count(429)}")
    assert set(statuses) == {200, 429}
    assert statuses.count(200) >= burst  # the burst is admitted
    assert ping == 429  # /ping shares the limit: it is the same TorchServe behind
    assert all(r["status"] in (200, 429) for r in read_access_log(proxy.access_log))


def test_connection_over_the_limit_gets_429(upstream, params, tmp_path):
    proxy = start_proxy(upstream, tmp_path / "nginx", params, connections=1)
    upstream.holding.clear()
    upstream.release.clear()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            held = pool.submit(requests.post, f"{proxy.url}/predictions/{MODEL}", json={"text": "hold"}, timeout=30)
            assert upstream.holding.wait(timeout=30)
            second = requests.post(f"{proxy.url}/predictions/{MODEL}", json={"text": "second"}, timeout=10)
            upstream.release.set()
            assert held.result().status_code == 200
    finally:
        upstream.release.set()
        proxy.stop()
    assert second.status_code == 429


def test_access_log_labels_explanations_however_the_path_is_encoded(proxy):
    offset = access_log_size(proxy.access_log)
    assert requests.post(f"{proxy.url}/predictions/{MODEL}", json={"text": "p"}, timeout=10).status_code == 200
    # nginx decodes the path to pick the location; the log's uri keeps it as sent
    for path in (f"/explanations/{MODEL}", f"/%65xplanations/{MODEL}"):
        assert raw_request(proxy.listen_port, "POST", path, b'{"text": "e"}')[0] == 200
    # nginx writes a request's log line just after its answer
    wait_until(lambda: len(read_access_log(proxy.access_log, offset=offset)) == 3, timeout=10, what="3 access-log lines")
    records = read_access_log(proxy.access_log, offset=offset)
    assert [r["route"] for r in records] == ["prediction", "explanation", "explanation"]
    assert records[2]["uri"] == f"/%65xplanations/{MODEL}"


def test_set_routing_returns_only_once_every_worker_of_the_old_config_has_exited(upstream, params, tmp_path):
    """An old worker that has not yet been told to quit still accepts connections and answers with
    the old routing (a rollout's safety reset read back weight 25 on a loaded box). Stopping the old
    worker (SIGSTOP) holds it in exactly that state: set_routing must wait for it to exit."""
    import os
    import signal
    import time

    proxy = start_proxy(upstream, tmp_path / "nginx", params)
    try:
        (old_worker,) = proxy.worker_pids()
        os.kill(old_worker, signal.SIGSTOP)
        resumed_at: list[float] = []

        def resume() -> None:
            time.sleep(1.0)
            resumed_at.append(time.monotonic())
            os.kill(old_worker, signal.SIGCONT)

        threading.Thread(target=resume, daemon=True).start()
        proxy.set_routing(Routing("1"))
        returned_at = time.monotonic()
        assert resumed_at and returned_at > resumed_at[0], "set_routing returned while the old worker was stopped"
        assert old_worker not in proxy.worker_pids()
        assert {proxy.status()["weight"] for _ in range(20)} == {0}
    finally:
        proxy.stop()
