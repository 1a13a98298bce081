"""TorchServe 0.12 on loopback with token auth: start, wait for a model (not /ping), call, stop.

Used by `make serve/stop/token` (scripts/serve.py), the benchmark and the integration tests,
so tests start exactly what a user starts. Each instance owns a run directory (default
run/torchserve/, git-ignored) that holds everything TorchServe writes: the effective
config.properties, key_file.json (tokens), logs/ (incl. config snapshots), its temp dir (pid
file, unpacked .mar files, worker sockets), so several instances can run side by side.

Restarts are deliberate: TorchServe ignores its snapshots when started with --ts-config (which
we always pass, for the hardened settings), so start() renders config.properties afresh every
time (later edits of it hold) and takes only the model snapshot (registered versions, workers)
from the newest snapshot, when it is current; it then re-applies the snapshot's default
versions and checks them with describe, because the default flag is not reliably honoured on
load (docs/architecture.md).

Tokens expire (token_expiration_min): with token_renewal_margin_s set (`make serve`), start()
also runs pipeline/services/token_renewer.py next to the server, and every call made here
re-reads key_file.json when a token is refused (pipeline/client.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pipeline.client import IntentClient
from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, ManagedProcess, port_open, stop_pidfile, wait_until
from pipeline.services.token_renewer import check_margin

CONFIG_TEMPLATE = PROJECT_ROOT / "config.properties"
LOG_CONFIG = PROJECT_ROOT / "serve_config" / "log4j2.xml"  # quiet per-request logging, async appenders
DEFAULT_RUN_DIR = PROJECT_ROOT / "run" / "torchserve"
STATE_FILE = "server.json"  # ports and pid of the instance `make serve` started
PID_FILE = "torchserve.pid"
RENEWER_PID_FILE = "token_renewer.pid"
KEY_FILE = "key_file.json"


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}


def read_properties(path: Path) -> dict[str, str]:
    """key=value lines of a Java properties file, values unescaped (snapshots escape \\n, \\:)."""
    props = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            props[key.strip()] = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), value.strip())
    return props


def override_properties(text: str, overrides: dict[str, str], appended_header: str | None = None) -> str:
    """Java-properties text with the values of `overrides` keys replaced; keys the text lacks are
    appended (after `appended_header`, a comment line, when given). Comments and order are kept."""
    lines, seen = [], set()
    for line in text.splitlines():
        key = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        if key in overrides:
            lines.append(f"{key}={overrides[key]}")
            seen.add(key)
        else:
            lines.append(line)
    if appended_header is not None:
        lines.append(appended_header)
    lines += [f"{k}={v}" for k, v in overrides.items() if k not in seen]
    return "\n".join(lines) + "\n"


def render_config(template: Path, out: Path, overrides: dict[str, str]) -> Path:
    """Copy template to out, replacing the values of `overrides` keys (appended when absent)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(override_properties(template.read_text(encoding="utf-8"), overrides), encoding="utf-8")
    return out


def allowed_urls_for(model_store: Path) -> str:
    """A properties-escaped regex accepting only file:// URLs of .mar files in model_store."""
    regex = "file://" + re.escape(str(model_store.resolve())) + r"/[^/]+\.mar"
    return regex.replace("\\", "\\\\")


def latest_snapshot(run_dir: Path) -> Path | None:
    """TorchServe's newest config snapshot in run_dir (written after every management change)."""
    snapshots = sorted((run_dir / "logs" / "config").glob("*-snapshot.cfg"))
    return snapshots[-1] if snapshots else None


def snapshot_model_line(snapshot: Path) -> str | None:
    """The model_snapshot value as written (still properties-escaped): the only part of a snapshot
    a restart takes, so every other setting comes from config.properties as it is now."""
    for line in snapshot.read_text(encoding="utf-8").splitlines():
        if line.startswith("model_snapshot="):
            return line.split("=", 1)[1]
    return None


def snapshot_models(snapshot: Path) -> dict[str, dict[str, dict]]:
    """model name -> version -> {defaultVersion, marName, minWorkers, ...} from a snapshot file."""
    raw = read_properties(snapshot).get("model_snapshot")
    return json.loads(raw).get("models", {}) if raw else {}


def snapshot_defaults(snapshot: Path) -> dict[str, str]:
    """model name -> default version recorded in a snapshot."""
    return {
        name: version
        for name, versions in snapshot_models(snapshot).items()
        for version, info in versions.items()
        if info.get("defaultVersion")
    }


def snapshot_is_current(snapshot: Path, model_store: Path, mars: list[str]) -> bool:
    """True if every archive the snapshot names exists and none (nor `mars`) was rebuilt after it."""
    named = [info["marName"] for versions in snapshot_models(snapshot).values() for info in versions.values()]
    if not named:
        return False
    taken = snapshot.stat().st_mtime
    for mar in {*named, *mars}:
        path = model_store / mar
        if not path.is_file() or path.stat().st_mtime > taken:
            return False
    return True


@dataclass
class TorchServe:
    """One TorchServe instance. Ports default to config.properties; tests pass free ports."""

    model_store: Path
    run_dir: Path = DEFAULT_RUN_DIR
    models: dict[str, str] = field(default_factory=dict)  # name -> .mar file, loaded at first start
    inference_port: int = 8080
    management_port: int = 8081
    metrics_port: int = 8082
    grpc_ports: tuple[int, int] | None = None  # gRPC is unused but binds 7070/7071 unless moved
    template: Path = CONFIG_TEMPLATE
    log_config: Path = LOG_CONFIG
    # Extra POST /models parameters for every registration by this launcher, e.g. max_batch_delay=0,
    # which a model-config.yaml cannot express (0 there means "unset": TorchServe waits 100 ms).
    # With any, `models` are registered through the management API instead of --models.
    registration: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)
    # False for a template with disable_token_authorization=true (the KServe pod's): no key file, no token
    token_auth: bool = True
    # renew tokens this many seconds before they expire (token_renewer); None: no renewer
    token_renewal_margin_s: float | None = None
    process: ManagedProcess | None = field(default=None, init=False)
    renewer: ManagedProcess | None = field(default=None, init=False)

    # -- lifecycle ---------------------------------------------------------------------------
    def config_path(self) -> Path:
        return self.run_dir / "config.properties"

    def temp_dir(self) -> Path:
        """run_dir/tmp (pid file, unpacked archives, worker sockets), or, when a worker socket there
        would be longer than a unix socket address may be (108 bytes; workers die with "AF_UNIX path
        too long"), a directory named after run_dir in the system temp dir."""
        path = self.run_dir.resolve() / "tmp"
        if len(str(path / ".ts.sock.65535")) < 100:
            return path
        return Path(tempfile.gettempdir()) / f"torchserve-{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"

    def write_config(self, snapshot: Path | None = None) -> Path:
        """The effective config: the template (config.properties) with this instance's addresses,
        model store and allowed_urls, plus the model snapshot of `snapshot` when given."""
        model_store = self.model_store.resolve()
        overrides = {
            "inference_address": f"http://{LOOPBACK}:{self.inference_port}",
            "management_address": f"http://{LOOPBACK}:{self.management_port}",
            "metrics_address": f"http://{LOOPBACK}:{self.metrics_port}",
            "model_store": str(model_store),
            "allowed_urls": allowed_urls_for(model_store),
        }
        if self.grpc_ports:
            overrides["grpc_inference_port"] = str(self.grpc_ports[0])
            overrides["grpc_management_port"] = str(self.grpc_ports[1])
        models = snapshot_model_line(snapshot) if snapshot is not None else None
        if models:
            overrides["model_snapshot"] = models
        return render_config(self.template, self.config_path(), overrides)

    def start(self, timeout: float = 120.0, restore: bool = True) -> TorchServe:
        """Start and wait until every model answers.

        With restore (default) and a current snapshot in run_dir, TorchServe is started from that
        snapshot (its registered versions and workers) and the snapshot's default versions are
        re-applied and checked; otherwise it starts from config.properties with `models`.
        """
        for port in (self.inference_port, self.management_port, self.metrics_port):
            if port_open(port):
                raise RuntimeError(f"port {port} on {LOOPBACK} is already in use: is TorchServe running? (make stop)")
        if not self.model_store.is_dir():
            raise FileNotFoundError(f"model store not found: {self.model_store} (run `make archive`)")
        snapshot = latest_snapshot(self.run_dir) if restore else None
        if snapshot is not None and not snapshot_is_current(snapshot, self.model_store, list(self.models.values())):
            snapshot = None
        tmp = self.temp_dir()
        tmp.mkdir(parents=True, exist_ok=True)
        (self.run_dir / KEY_FILE).unlink(missing_ok=True)  # stale tokens would mislead waiters
        config = self.write_config(snapshot)
        if self.token_renewal_margin_s is not None:
            check_margin(self.token_renewal_margin_s, float(read_properties(config).get("token_expiration_min", 60)))
        args = [
            str(Path(sys.executable).with_name("torchserve")),
            "--start",
            "--foreground",
            "--ts-config",
            str(config),
            "--model-store",
            str(self.model_store.resolve()),
            "--log-config",
            str(self.log_config.resolve()),
        ]
        register_by_api = snapshot is None and bool(self.registration)
        if snapshot is None and self.models and not register_by_api:
            args += ["--models", *(f"{name}={mar}" for name, mar in self.models.items())]
        env = {
            # TorchServe keeps its pid file, unpacked archives and worker sockets in the temp dir:
            # one per instance, or two instances on one machine collide.
            "TMPDIR": str(tmp),
            "TEMP": str(tmp),
            "LOG_LOCATION": str(self.run_dir / "logs"),
            "METRICS_LOCATION": str(self.run_dir / "logs"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "TOKENIZERS_PARALLELISM": "false",
            "OMP_NUM_THREADS": "1",  # one torch thread per worker (2 cores, several workers)
            **self.env,
        }
        self.process = ManagedProcess("torchserve", args, self.run_dir / "torchserve.log", env=env, cwd=self.run_dir)
        self.process.start()
        try:
            self.wait_started(timeout)
            if self.token_renewal_margin_s is not None:
                self.start_renewer()
            if register_by_api:
                for mar in self.models.values():
                    response = self.register(mar, initial_workers=None, timeout=timeout)
                    if response.status_code != 200:
                        raise RuntimeError(f"registering {mar} failed: {response.status_code} {response.text}")
            expected = snapshot_models(snapshot) if snapshot else self.models
            for name in expected:
                self.wait_model_ready(name, timeout=timeout)
            if snapshot is not None:
                for name, version in snapshot_defaults(snapshot).items():
                    self.ensure_default(name, version)
        except Exception as exc:
            tail = self.process.log_tail(60)
            self.stop()
            raise RuntimeError(f"TorchServe did not become ready: {exc}\n--- log tail ---\n{tail}") from exc
        return self

    def wait_started(self, timeout: float) -> None:
        def up() -> bool:
            if self.process is not None and not self.process.running():
                raise RuntimeError(f"TorchServe exited with code {self.process.proc.returncode}")
            keys_written = not self.token_auth or (self.run_dir / KEY_FILE).is_file()
            return keys_written and port_open(self.management_port)

        wait_until_or_raise(up, timeout, "TorchServe management API and key file")

    def start_renewer(self) -> None:
        """The token renewer as its own process: it outlives this Python process with the server
        (`make serve`) and exits when the server does."""
        args = [sys.executable, "-m", "pipeline.services.token_renewer", "--run-dir", str(self.run_dir),
                "--management-port", str(self.management_port), "--margin-s", str(self.token_renewal_margin_s),
                "--torchserve-pid", str(self.process.pid)]
        env = {"PYTHONPATH": os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)}
        self.renewer = ManagedProcess("token-renewer", args, self.run_dir / "token_renewer.log", env=env,
                                      cwd=PROJECT_ROOT).start()

    def stop(self) -> None:
        if self.renewer is not None:
            self.renewer.stop()
            self.renewer = None
        if self.process is not None:
            self.process.stop()
            self.process = None
            # the JVM still holds its ports for a moment after its process group is gone: without
            # this wait, stop() then start() on the same ports fails with "port ... in use"
            ports = (self.inference_port, self.management_port, self.metrics_port)
            with contextlib.suppress(TimeoutError):
                wait_until(lambda: not any(port_open(p) for p in ports), timeout=30, interval=0.1, what="ports to close")

    def log_tail(self, lines: int = 60) -> str:
        return self.process.log_tail(lines) if self.process else ""

    # -- tokens and calls --------------------------------------------------------------------
    def keys(self) -> dict[str, str]:
        """{"inference": ..., "management": ..., "API": ...} from the key file TorchServe wrote."""
        return read_keys(self.run_dir)

    def key_file(self) -> Path:
        return self.run_dir / KEY_FILE

    def _token_file(self) -> Path | None:
        """The key file clients read tokens from; None when token auth is off (the KServe pod's config)."""
        return self.key_file() if self.token_auth else None

    def client(self, **options) -> IntentClient:
        """A client of this instance's inference API that follows token renewals."""
        return IntentClient(self.inference_url(), token_file=self._token_file(), **options)

    def headers(self, api: str = "inference") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys()[api]}"} if self.token_auth else {}

    def inference_url(self, path: str = "") -> str:
        return f"http://{LOOPBACK}:{self.inference_port}/{path.lstrip('/')}"

    def management_url(self, path: str = "") -> str:
        return f"http://{LOOPBACK}:{self.management_port}/{path.lstrip('/')}"

    def metrics_url(self) -> str:
        return f"http://{LOOPBACK}:{self.metrics_port}/metrics"

    def manage(self, method: str, path: str, timeout: float = 120.0, **kwargs) -> requests.Response:
        """A management call; a token refused because it was just renewed is re-read and retried once."""
        client = IntentClient(self.management_url(), token_file=self._token_file(), api="management", retries=0,
                              timeout=timeout)
        reply = client.request(method, path, **kwargs)
        if reply.response is None:
            raise requests.ConnectionError(f"{method} {self.management_url(path)}: {reply.error}")
        return reply.response

    def list_models(self) -> list[str]:
        response = self.manage("GET", "models")
        response.raise_for_status()
        return [m["modelName"] for m in response.json().get("models", [])]

    def describe(self, name: str, version: str | None = None) -> list[dict]:
        response = self.manage("GET", f"models/{name}" + (f"/{version}" if version else "/all"))
        response.raise_for_status()
        return response.json()

    def default_version(self, name: str) -> str | None:
        """The version that unversioned URLs reach (describe of the bare name lists the default)."""
        response = self.manage("GET", f"models/{name}")
        response.raise_for_status()
        described = response.json()
        return described[0]["modelVersion"] if described else None

    def wait_model_ready(self, name: str, version: str | None = None, timeout: float = 120.0) -> None:
        """Poll describe until a worker of the model is READY: /ping says nothing about models."""

        def ready() -> bool:
            if self.process is not None and not self.process.running():
                raise RuntimeError(f"TorchServe exited with code {self.process.proc.returncode}")
            response = self.manage("GET", f"models/{name}" + (f"/{version}" if version else ""), timeout=5)
            if response.status_code != 200:
                return False
            workers = [w for entry in response.json() for w in entry.get("workers", [])]
            return any(w.get("status") == "READY" for w in workers)

        wait_until_or_raise(ready, timeout, f"model {name}{'/' + version if version else ''} to have a READY worker")

    def register(self, mar: str, *, initial_workers: int | None = 1, timeout: float = 180.0) -> requests.Response:
        """Register a .mar from the model store (file name) and wait for its workers.

        Batch size and delay come from the archive's model-config.yaml unless this launcher's
        `registration` says otherwise; initial_workers=None takes the archive's minWorkers too.
        """
        params = {"url": mar, "synchronous": "true", **self.registration}
        if initial_workers is not None:
            params["initial_workers"] = initial_workers
        return self.manage("POST", "models", params=params, timeout=timeout)

    def set_default(self, name: str, version: str) -> requests.Response:
        return self.manage("PUT", f"models/{name}/{version}/set-default")

    def ensure_default(self, name: str, version: str) -> None:
        """Make `version` the default and check it (TorchServe may not honour the snapshot's flag)."""
        if self.default_version(name) != version:
            response = self.set_default(name, version)
            if response.status_code != 200:
                raise RuntimeError(f"set-default {name}/{version} failed: {response.status_code} {response.text}")
        actual = self.default_version(name)
        if actual != version:
            raise RuntimeError(f"default version of {name} is {actual}, expected {version}")

    def unregister(self, name: str, version: str) -> requests.Response:
        return self.manage("DELETE", f"models/{name}/{version}")

    # -- state for make targets ----------------------------------------------------------------
    def save_state(self) -> None:
        state = {
            "pid": self.process.pid if self.process else None,
            "inference_port": self.inference_port,
            "management_port": self.management_port,
            "metrics_port": self.metrics_port,
            "model_store": str(self.model_store.resolve()),
            "registration": self.registration,
        }
        (self.run_dir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")
        (self.run_dir / PID_FILE).write_text(f"{state['pid']}\n", encoding="utf-8")
        if self.renewer is not None:
            (self.run_dir / RENEWER_PID_FILE).write_text(f"{self.renewer.pid}\n", encoding="utf-8")

    @classmethod
    def attach(cls, run_dir: Path = DEFAULT_RUN_DIR) -> TorchServe:
        """The instance `make serve` started (ports from its state file), without a process handle."""
        state_path = run_dir / STATE_FILE
        if not state_path.is_file():
            raise FileNotFoundError(f"no running TorchServe recorded in {state_path} (run `make serve`)")
        state = json.loads(state_path.read_text(encoding="utf-8"))
        return cls(
            model_store=Path(state["model_store"]),
            run_dir=run_dir,
            inference_port=state["inference_port"],
            management_port=state["management_port"],
            metrics_port=state["metrics_port"],
            registration=state.get("registration", {}),
        )


def serve_registration(params: dict) -> dict[str, str]:
    """POST /models parameters that params.yaml `serve` sets for every registration."""
    return {"max_batch_delay": str(int(params["serve"]["max_batch_delay_ms"]))}


def read_keys(run_dir: Path) -> dict[str, str]:
    key_file = run_dir / KEY_FILE
    if not key_file.is_file():
        raise FileNotFoundError(f"{key_file} not found: TorchServe writes it at start (run `make serve`)")
    data = json.loads(key_file.read_text(encoding="utf-8"))
    return {api: data[api]["key"] for api in ("inference", "management", "API") if api in data}


def stop_background(run_dir: Path = DEFAULT_RUN_DIR) -> bool:
    """Stop the instance `make serve` left running; True if there was one."""
    stop_pidfile(run_dir / RENEWER_PID_FILE)
    stopped = stop_pidfile(run_dir / PID_FILE, timeout=30)
    (run_dir / STATE_FILE).unlink(missing_ok=True)
    (run_dir / KEY_FILE).unlink(missing_ok=True)
    return stopped


def wait_until_or_raise(check, timeout: float, what: str) -> None:
    """wait_until, but an exception from check (e.g. the server died) ends the wait at once."""
    errors: list[BaseException] = []

    def guarded() -> bool:
        try:
            return check()
        except RuntimeError as exc:
            errors.append(exc)
            return True
        except (requests.RequestException, OSError, KeyError, ValueError):
            return False

    wait_until(guarded, timeout=timeout, interval=0.5, what=what)
    if errors:
        raise errors[0]

