"""nginx (Debian's binary) as the project's own canary proxy: render, start, reload, drain, stop.

Never the system service: each instance owns a prefix directory (default run/nginx/, git-ignored)
holding its rendered config, pid file, logs and temp dirs, listens on loopback, and runs in the
foreground under ManagedProcess (tests) or detached with a pid file (make canary). The weight
split lives in the config (split_clients), so changing it is a re-render plus a graceful reload:
the master starts new workers with the new config and old workers finish their requests.

Started as root, nginx drops workers to an unprivileged user; the config keeps bodies in memory
and never buffers responses to disk, so those workers need no writable directory (docs/architecture.md).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

from pipeline.config import PROJECT_ROOT, check_safe_name
from pipeline.services import LOOPBACK, ManagedProcess, port_open, wait_until

TEMPLATE = PROJECT_ROOT / "serve_config" / "nginx-canary.conf.tmpl"
DEFAULT_PREFIX = PROJECT_ROOT / "run" / "nginx"
STATE_FILE = "proxy.json"  # listen/upstream ports and the current routing of a detached instance
ACCESS_LOG = "logs/canary_access.jsonl"
_PLACEHOLDER = re.compile(r"\$\{([a-z_]+)\}")
_TEMP_DIRS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx_binary() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").is_file() else None)
    if not found:
        raise FileNotFoundError("nginx not found: install it with `make system-deps` (Debian package nginx)")
    return found


@dataclass(frozen=True)
class Routing:
    """Which versions nginx sends unversioned requests to: `weight` percent to canary, rest to stable."""

    stable: str
    canary: str | None = None
    weight: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.weight <= 100:
            raise ValueError(f"canary weight must be within 0..100 percent, got {self.weight}")
        if self.weight > 0 and not self.canary:
            raise ValueError("a canary weight above 0 needs a canary version")
        for version in (self.stable, self.canary):
            if version is not None:
                check_safe_name(version, "model version")


@dataclass(frozen=True)
class ProxyLimits:
    """Bounds of what one client address may send (params rollout.proxy.limits) and the body
    size, which is TorchServe's max_request_size: nginx refuses (413) what TorchServe would."""

    max_body_bytes: int
    requests_per_second: int
    burst: int
    explanations_per_second: int
    explanation_burst: int
    connections: int
    key: str  # nginx variable the limits count per, e.g. $binary_remote_addr

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if name != "key" and (not isinstance(value, int) or value < 1):
                raise ValueError(f"proxy limit {name} must be a whole number >= 1, got {value!r}")
        if not re.fullmatch(r"\$[A-Za-z0-9_]+", self.key):
            raise ValueError(f"proxy limit key must be one nginx variable like $binary_remote_addr, got {self.key!r}")

    @classmethod
    def from_params(cls, cfg: dict, max_body_bytes: int) -> ProxyLimits:
        return cls(max_body_bytes=int(max_body_bytes), **cfg)


def split_block(routing: Routing, key: str) -> str:
    """The nginx block defining $model_version. split_clients refuses 0 % and needs a remainder,
    so the ends of the range are plain maps."""
    if routing.weight <= 0 or routing.canary is None:
        only = routing.stable
    elif routing.weight >= 100:
        only = routing.canary
    else:
        share = f"{routing.weight:.2f}".rstrip("0").rstrip(".")
        return (
            f'    split_clients "{key}" $model_version {{\n'
            f'        {share}% "{routing.canary}";\n'
            f'        * "{routing.stable}";\n'
            "    }"
        )
    return f'    map "{key}" $model_version {{\n        default "{only}";\n    }}'


def render(template: str, values: dict[str, object]) -> str:
    """Fill ${name} placeholders; nginx's own $variables are left alone. A missing value raises."""

    def fill(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            raise KeyError(f"nginx template placeholder ${{{name}}} has no value")
        return str(values[name])

    return _PLACEHOLDER.sub(fill, template)


def worker_user_directive() -> str:
    """As root, name the unprivileged worker user explicitly (its group differs by distribution)."""
    if os.geteuid() != 0:
        return "# not root: workers run as the invoking user"
    nobody = pwd.getpwnam("nobody")
    return f"user nobody {grp.getgrgid(nobody.pw_gid).gr_name};"


@dataclass
class NginxProxy:
    """One canary proxy in front of one TorchServe inference API."""

    upstream_port: int
    listen_port: int = 8090
    prefix: Path = DEFAULT_PREFIX
    model_name: str = "intent_classifier"
    split_key: str = "$request_id"
    read_timeout: int = 120
    template: Path = TEMPLATE
    generation: int = 0
    routing: Routing | None = None
    process: ManagedProcess | None = field(default=None, init=False)
    limits: ProxyLimits = field(kw_only=True)

    def __post_init__(self) -> None:
        check_safe_name(self.model_name, "model name")

    # -- files ---------------------------------------------------------------------------------
    @property
    def conf_path(self) -> Path:
        return self.prefix / "conf" / "nginx.conf"

    @property
    def pid_path(self) -> Path:
        return self.prefix / "nginx.pid"

    @property
    def access_log(self) -> Path:
        return self.prefix / ACCESS_LOG

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.listen_port}"

    def write_config(self, routing: Routing) -> Path:
        """Render the template for `routing` as the next generation and check it with `nginx -t`."""
        for sub in ("conf", "logs", *(f"temp/{d}" for d in _TEMP_DIRS)):
            (self.prefix / sub).mkdir(parents=True, exist_ok=True)
        # another command (a rollout CLI) may have moved the config on since this object was made:
        # never reuse a generation number, or wait_generation would accept that command's config
        self.generation = max(self.generation, self.recorded_generation())
        text = render(
            self.template.read_text(encoding="utf-8"),
            {
                "user_directive": worker_user_directive(),
                "prefix": self.prefix.resolve(),
                "generation": self.generation + 1,
                "stable_version": routing.stable,
                "canary_version": routing.canary or "",
                "weight": f"{routing.weight:g}",
                "split_block": split_block(routing, self.split_key),
                "split_key": self.split_key,
                "max_body": self.limits.max_body_bytes,
                "limit_key": self.limits.key,
                "requests_per_second": self.limits.requests_per_second,
                "burst": self.limits.burst,
                "explanations_per_second": self.limits.explanations_per_second,
                "explanation_burst": self.limits.explanation_burst,
                "connections": self.limits.connections,
                "upstream": f"{LOOPBACK}:{self.upstream_port}",
                "listen": f"{LOOPBACK}:{self.listen_port}",
                "read_timeout": self.read_timeout,
                "model_name": self.model_name,
                "model_pattern": re.escape(self.model_name),
            },
        )
        candidate = self.conf_path.with_suffix(".conf.new")
        candidate.write_text(text, encoding="utf-8")
        check = self._nginx("-t", conf=candidate)
        if check.returncode != 0:
            raise RuntimeError(f"nginx rejected the rendered config {candidate}:\n{check.stderr.strip()}")
        candidate.replace(self.conf_path)
        self.generation += 1
        self.routing = routing
        self.save_state()
        return self.conf_path

    def _nginx(self, *args: str, conf: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [nginx_binary(), "-p", f"{self.prefix.resolve()}/", "-c", str((conf or self.conf_path).resolve()),
             "-e", str((self.prefix / "logs" / "error.log").resolve()), *args],
            capture_output=True, text=True, timeout=30, check=False,
        )

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self, routing: Routing, timeout: float = 30.0) -> NginxProxy:
        """Start in the foreground of a child process and wait for this generation to answer."""
        if port_open(self.listen_port):
            raise RuntimeError(f"port {self.listen_port} on {LOOPBACK} is already in use: is the proxy running? (make proxy-stop)")
        self.write_config(routing)
        self.process = ManagedProcess(
            "nginx",
            [nginx_binary(), "-p", f"{self.prefix.resolve()}/", "-c", str(self.conf_path.resolve()),
             "-e", str((self.prefix / "logs" / "error.log").resolve())],
            self.prefix / "logs" / "nginx.out",
        ).start()
        try:
            self.wait_generation(timeout)
        except Exception as exc:
            tail = self.log_tail()
            self.stop()
            raise RuntimeError(f"nginx did not start: {exc}\n--- error log ---\n{tail}") from exc
        return self

    def master_pid(self) -> int | None:
        try:
            pid = int(self.pid_path.read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError):
            return None

    def running(self) -> bool:
        return self.master_pid() is not None

    def set_routing(self, routing: Routing, timeout: float = 30.0, drain_timeout: float = 60.0) -> None:
        """Re-render and reload gracefully; return once new workers serve it and every worker of the
        old configuration has exited. Waiting for old workers to *say* "shutting down" is not enough:
        between the master starting the new workers and telling the old ones to quit, an old worker
        still accepts connections and answers with the old routing (seen on a loaded 2-core box)."""
        old_workers = set(self.worker_pids())
        self.write_config(routing)
        reload = self._nginx("-s", "reload")
        if reload.returncode != 0:
            raise RuntimeError(f"nginx -s reload failed: {reload.stderr.strip()}")
        self.wait_generation(timeout)
        wait_until(lambda: not old_workers & set(self.worker_pids()), timeout=drain_timeout, interval=0.1,
                   what="the workers of the previous nginx config to drain and exit")

    def status(self) -> dict:
        response = requests.get(f"{self.url}/canary-status", timeout=5)
        response.raise_for_status()
        return response.json()

    def wait_generation(self, timeout: float) -> None:
        def current() -> bool:
            if self.process is not None and not self.process.running():
                raise RuntimeError(f"nginx exited with code {self.process.proc.returncode}")
            return self.status()["generation"] == self.generation

        wait_until(current, timeout=timeout, interval=0.1, what=f"nginx config generation {self.generation}")

    def worker_pids(self) -> list[int]:
        """The master's children: its worker processes, current and still draining."""
        master = self.master_pid()
        if master is None:
            return []
        pids = []
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                stat = (proc / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(proc.name))
        return pids

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful quit (finish in-flight requests), then whatever ManagedProcess must do."""
        pid = self.master_pid()
        if pid is not None:
            try:
                os.kill(pid, signal.SIGQUIT)
            except ProcessLookupError:
                pass
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and self.master_pid() is not None:
                time.sleep(0.1)
        if self.process is not None:
            self.process.stop()
            self.process = None
        elif (pid := self.master_pid()) is not None:
            os.kill(pid, signal.SIGKILL)
        (self.prefix / STATE_FILE).unlink(missing_ok=True)

    def log_tail(self, lines: int = 40) -> str:
        path = self.prefix / "logs" / "error.log"
        try:
            return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # -- detached instance for make targets -------------------------------------------------------
    def recorded_generation(self) -> int:
        try:
            return int(json.loads((self.prefix / STATE_FILE).read_text(encoding="utf-8"))["generation"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def save_state(self) -> None:
        state = {
            "upstream_port": self.upstream_port,
            "listen_port": self.listen_port,
            "model_name": self.model_name,
            "split_key": self.split_key,
            "generation": self.generation,
            "routing": None if self.routing is None else vars(self.routing),
            "limits": vars(self.limits),
        }
        (self.prefix / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n", encoding="utf-8")

    @classmethod
    def attach(cls, prefix: Path = DEFAULT_PREFIX) -> NginxProxy:
        """The detached proxy a previous command left running (ports and routing from its state)."""
        state_path = prefix / STATE_FILE
        if not state_path.is_file():
            raise FileNotFoundError(f"no running canary proxy recorded in {state_path}")
        state = json.loads(state_path.read_text(encoding="utf-8"))
        if "limits" not in state:
            raise RuntimeError(f"{state_path} was written before the proxy had limits: stop that nginx "
                               f"(kill -QUIT $(cat {prefix / 'nginx.pid'})) and rerun")
        proxy = cls(
            upstream_port=state["upstream_port"],
            listen_port=state["listen_port"],
            prefix=prefix,
            model_name=state["model_name"],
            split_key=state["split_key"],
            generation=state["generation"],
            routing=Routing(**state["routing"]) if state["routing"] else None,
            limits=ProxyLimits(**state["limits"]),
        )
        if not proxy.running():
            raise RuntimeError(f"the canary proxy recorded in {state_path} is not running")
        return proxy


def access_log_size(path: Path) -> int:
    """Where the access log ends now: pass it as `offset` to read only what comes after."""
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def read_access_log(path: Path, since: float = 0.0, offset: int = 0) -> list[dict]:
    """Records of the proxy's JSON access log written at or after `since` (epoch seconds),
    starting at byte `offset` (a long-running proxy's log is not re-read from the start).

    nginx writes each line with one write(); only a last line without its newline (being written
    right now) is left for the next read. Any other unreadable line is an error naming it.
    """
    if not path.is_file():
        return []
    records = []
    with path.open("rb") as fh:
        fh.seek(offset if offset <= access_log_size(path) else 0)  # a smaller file was rotated
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ValueError(f"{path}: the line at byte {fh.tell() - len(raw)} is not a JSON access-log record: {exc}") from exc
            if float(record["msec"]) >= since:
                records.append(record)
    return records
