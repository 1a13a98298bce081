"""The hardened defaults, each as a test against real servers on loopback (docs/architecture.md, "Security"):
token auth, no management API on the inference port, allowed_urls, loopback-only listeners (in
config.properties and on the sockets of a started server), no secrets in git, MLflow Host checks."""

from __future__ import annotations

import json
import re

import pytest
import requests

from pipeline.config import PROJECT_ROOT
from pipeline.reliability.security_checks import (
    SECRET_PATTERNS,
    configured_listeners,
    is_loopback_host,
    listening_sockets,
    scan_secrets,
)
from pipeline.services.torchserve import read_properties

pytestmark = pytest.mark.integration

MODEL = "intent_classifier"
BODY = json.dumps({"text": "Write a Python function that reverses a linked list"})
JSON = {"Content-Type": "application/json"}


def test_calls_without_a_valid_token_are_refused(module_torchserve):
    ts = module_torchserve
    url = ts.inference_url(f"predictions/{MODEL}")
    for headers in ({}, {"Authorization": "Bearer wrong"}, ts.headers("management")):
        response = requests.post(url, data=BODY, headers={**JSON, **headers}, timeout=30)
        assert response.status_code in (400, 401, 403), (headers, response.text)
        assert "intent" not in response.text
    for headers in ({}, {"Authorization": "Bearer wrong"}, ts.headers("inference")):
        assert requests.get(ts.management_url("models"), headers=headers, timeout=30).status_code in (400, 401, 403)
    assert requests.post(url, data=BODY, headers={**JSON, **ts.headers()}, timeout=30).status_code == 200


def test_management_api_is_not_reachable_on_the_inference_port(module_torchserve, configured_workers):
    ts = module_torchserve
    store = ts.model_store.resolve()
    for api in ("inference", "management"):
        for method, path in (("GET", "models"), ("GET", f"models/{MODEL}"), ("POST", f"models?url={store}/{MODEL}_v2.mar"),
                             ("PUT", f"models/{MODEL}?min_worker={configured_workers + 1}"), ("DELETE", f"models/{MODEL}/1")):
            response = requests.request(method, ts.inference_url(path), headers=ts.headers(api), timeout=30)
            assert response.status_code in (400, 401, 403, 404, 405), (api, method, path, response.text)
    # nothing changed: one version, the configured workers (the PUT of one more worker above was refused)
    described = ts.describe(MODEL)
    assert [d["modelVersion"] for d in described] == ["1"] and len(described[0]["workers"]) == configured_workers


@pytest.mark.parametrize("url", ["https://example.com/evil.mar", "http://127.0.0.1:1/x.mar", "file:///etc/passwd",
                                 "file://{store}/../evil.mar", "file://{store}/sub/evil.mar"])
def test_registering_from_a_url_outside_allowed_urls_is_refused(module_torchserve, url):
    url = url.format(store=module_torchserve.model_store.resolve())
    response = requests.post(module_torchserve.management_url("models"), params={"url": url},
                             headers=module_torchserve.headers("management"), timeout=30)
    assert response.status_code >= 400
    # TorchServe names the reason: no allowed_urls match, or a relative path (..) in the URL
    assert re.search(r"does not match any allowed URL|Relative path is not allowed", response.json()["message"])


def test_config_properties_binds_every_listener_to_loopback():
    props = read_properties(PROJECT_ROOT / "config.properties")
    listeners = configured_listeners(props)
    assert set(listeners) == {"inference_address", "management_address", "metrics_address"}
    assert all(host == "127.0.0.1" for host in listeners.values()), listeners
    # hardening that goes with it
    assert props["install_py_dep_per_model"] == "false"
    assert props.get("disable_token_authorization", "false") == "false"
    assert int(props["max_request_size"]) <= 6553500
    assert props["allowed_urls"].startswith("file://")


def test_started_server_listens_on_loopback_only(module_torchserve):
    sockets = listening_sockets(module_torchserve.process.pid)
    ports = {port for _, _, port in sockets}
    ts = module_torchserve
    assert {ts.inference_port, ts.management_port, ts.metrics_port} <= ports
    assert all(is_loopback_host(ip) for _, ip, _ in sockets), sockets
    # the effective config TorchServe read says the same
    effective = configured_listeners(read_properties(ts.config_path()))
    assert all(is_loopback_host(h) for h in effective.values())


def test_no_secrets_in_files_git_tracks():
    files, findings = scan_secrets()
    assert files > 50
    assert findings == [], "\n".join(f"{f.path}:{f.line}: {f.kind}" for f in findings)


def test_secret_scan_finds_planted_credentials(tmp_path):
    """The scanner itself works (keys assembled at run time, so none is in the repo)."""
    planted = {
        "aws.txt": "key = " + "AKIA" + "ABCDEFGHIJKLMNOP",
        "pk.txt": "-----BEGIN " + "RSA PRIVATE KEY-----",
        "gh.txt": "token: " + "ghp_" + "a" * 36,
        "url.txt": "postgresql://app:" + "s3cretPass" + "@db.example.com/prod",
        "key_file.json": "{}",
        "fine.txt": "postgresql://user:password@host:5432/db and {self.password}",
    }
    for name, text in planted.items():
        (tmp_path / name).write_text(text + "\n")
    _, findings = scan_secrets(tmp_path, files=sorted(planted))
    flagged = {f.path for f in findings}
    assert flagged == set(planted) - {"fine.txt"}
    assert {f.kind for f in findings} >= {"AWS access key id", "private key", "GitHub token", "password in a URL",
                                          "credential file name"}
    assert set(SECRET_PATTERNS) >= {f.kind for f in findings if f.line}


def test_mlflow_server_refuses_foreign_host_headers(tmp_path):
    from pipeline.services.mlflow_server import start_mlflow_server

    server = start_mlflow_server(f"sqlite:///{tmp_path / 'mlflow.db'}", str(tmp_path / "artifacts"), tmp_path / "mlflow.log")
    try:
        api = f"{server.url}/api/2.0/mlflow/experiments/search?max_results=1"
        for host in ("evil.example.com", f"evil.example.com:{server.port}", f"192.168.1.10:{server.port}"):
            for url in (api, f"{server.url}/"):
                response = requests.get(url, headers={"Host": host}, timeout=30)
                assert response.status_code == 403, (host, url, response.status_code)
        assert requests.get(api, timeout=30).status_code == 200
        assert requests.get(api, headers={"Host": f"localhost:{server.port}"}, timeout=30).status_code == 200
        assert all(is_loopback_host(ip) for _, ip, _ in listening_sockets(server.process.pid))
    finally:
        server.stop()
