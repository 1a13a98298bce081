"""TorchServe, its token renewer, Redis and the canary nginx under supervisord: restarted whenever they exit.

supervisord (PyPI, pinned in requirements.txt) rather than systemd units: it runs as the user, in
a container or a CI box without an init system, from a config rendered here into one run dir,
and `supervisorctl` gives an operator status/restart/tail. systemd could run supervisord itself.

- torchserve: `python -m pipeline.services.supervision torchserve ...` starts TorchServe in the
  foreground through pipeline.services.torchserve (newest config snapshot first, so the registered
  versions and the default version come back after a crash), then waits for it: when the JVM
  dies (`-XX:+ExitOnOutOfMemoryError`, kill -9, crash) this program exits 1 and supervisord starts
  it again. SIGTERM stops TorchServe cleanly.
- redis: redis-server in the foreground with the flags pipeline.services.redis uses.
- nginx: the canary proxy's own config (`daemon off;`); rollouts keep reloading it as usual.
  Its program first kills the workers a SIGKILLed master left holding the port (same process
  group, named by the old pid file), then execs nginx.
- token-renewer: pipeline.services.token_renewer on TorchServe's run dir, renewing each token
  serve.token_renewal_margin_min before it expires. It is not tied to one TorchServe pid (a
  restarted JVM has another): it re-reads key_file.json every loop, so it follows restarts, and
  while the file is missing (TorchServe starting) it retries.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, wait_until
from pipeline.services.nginx import ProxyLimits
from pipeline.services.token_renewer import check_margin
from pipeline.services.torchserve import CONFIG_TEMPLATE, read_properties

DEFAULT_RUN_DIR = PROJECT_ROOT / "run" / "supervise"
EXIT_TORCHSERVE_DIED = 1


@dataclass(frozen=True)
class SupervisedStack:
    """Where each supervised server lives and listens (from params; tests pass free ports)."""

    run_dir: Path
    model_store: Path
    models: dict[str, str]  # name -> .mar, served at the first start (later starts: the snapshot)
    inference_port: int = 8080
    management_port: int = 8081
    metrics_port: int = 8082
    grpc_ports: tuple[int, int] = (7070, 7071)  # unused, but TorchServe binds them
    redis_port: int = 6379
    proxy_port: int = 8090
    model_name: str = "intent_classifier"
    start_retries: int = 10
    token_renewal_margin_s: float = 3600.0  # serve.token_renewal_margin_min, in seconds
    proxy_limits: ProxyLimits | None = None  # rollout.proxy.limits; the body bound is TorchServe's max_request_size

    @classmethod
    def from_params(cls, params: dict, run_dir: Path = DEFAULT_RUN_DIR, **overrides) -> SupervisedStack:
        serve = params["serve"]
        fields = {
            "run_dir": run_dir,
            "model_store": PROJECT_ROOT / "model_store",
            "models": {serve["model_name"]: f"{serve['model_name']}.mar"},
            "redis_port": urlparse(serve["redis_url"]).port or 6379,
            "proxy_port": int(params["rollout"]["proxy"]["port"]),
            "model_name": serve["model_name"],
            "token_renewal_margin_s": float(serve["token_renewal_margin_min"]) * 60,
            "proxy_limits": ProxyLimits.from_params(
                params["rollout"]["proxy"]["limits"], int(read_properties(CONFIG_TEMPLATE)["max_request_size"])),
            **overrides,
        }
        return cls(**fields)

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "supervisord.conf"

    @property
    def socket_path(self) -> Path:
        """run_dir/supervisor.sock, or one named after run_dir in the temp dir when that path is
        longer than a unix socket address may be (108 bytes)."""
        path = self.run_dir.resolve() / "supervisor.sock"
        if len(str(path)) < 100:
            return path
        digest = hashlib.sha1(str(path).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"supervisor-{digest}.sock"

    @property
    def torchserve_dir(self) -> Path:
        return self.run_dir / "torchserve"

    @property
    def proxy_prefix(self) -> Path:
        return self.run_dir / "nginx"


def program(name: str, command: list[str], log: Path, stack: SupervisedStack, extra: str = "") -> str:
    quoted = " ".join(_quote(part) for part in command)
    return (
        f"[program:{name}]\ncommand={quoted}\nautostart=true\nautorestart=true\nstartsecs=5\n"
        f"startretries={stack.start_retries}\nstopsignal=TERM\nstopwaitsecs=60\nstopasgroup=true\nkillasgroup=true\n"
        f"redirect_stderr=true\nstdout_logfile={log}\nstdout_logfile_maxbytes=20MB\nstdout_logfile_backups=3\n{extra}\n"
    )


def _quote(part: str) -> str:
    """supervisord splits `command` shell-like and expands %(...)s: quote spaces, double %."""
    part = part.replace("%", "%%")
    return f'"{part}"' if (" " in part or not part) else part


def render(stack: SupervisedStack, stable_version: str) -> Path:
    """supervisord.conf (and the proxy's nginx.conf, when it has none yet) in stack.run_dir."""
    from pipeline.services.nginx import NginxProxy, Routing, nginx_binary
    from pipeline.services.redis import RedisServer

    stack.run_dir.mkdir(parents=True, exist_ok=True)
    proxy = NginxProxy(upstream_port=stack.inference_port, listen_port=stack.proxy_port, prefix=stack.proxy_prefix,
                       limits=stack.proxy_limits,
                       model_name=stack.model_name)
    if not proxy.conf_path.is_file():  # after a restart the routing a rollout left is kept
        proxy.write_config(Routing(stable_version))
    redis = RedisServer(port=stack.redis_port, run_dir=stack.run_dir / "redis")
    torchserve = [
        sys.executable, "-m", "pipeline.services.supervision", "torchserve",
        "--run-dir", str(stack.torchserve_dir), "--model-store", str(stack.model_store.resolve()),
        "--ports", ",".join(str(p) for p in (stack.inference_port, stack.management_port, stack.metrics_port,
                                             *stack.grpc_ports)),
        *(arg for name, mar in stack.models.items() for arg in ("--model", f"{name}={mar}")),
    ]
    nginx = [sys.executable, "-m", "pipeline.services.supervision", "nginx", "--pid-file", str(proxy.pid_path.resolve()),
             "--", nginx_binary(), "-p", f"{stack.proxy_prefix.resolve()}/", "-c", str(proxy.conf_path.resolve()),
             "-e", str((stack.proxy_prefix / "logs" / "error.log").resolve())]
    check_margin(stack.token_renewal_margin_s, float(read_properties(CONFIG_TEMPLATE).get("token_expiration_min", 60)))
    renewer = [sys.executable, "-m", "pipeline.services.token_renewer", "--run-dir", str(stack.torchserve_dir.resolve()),
               "--management-port", str(stack.management_port), "--margin-s", str(stack.token_renewal_margin_s)]
    # the handler reaches the cache with its password file, as under `make serve`
    torchserve_env = ",".join(f'{key}="{value}"' for key, value in
                              {"PYTHONPATH": str(PROJECT_ROOT), **redis.handler_env()}.items())
    logs = stack.run_dir / "logs"
    logs.mkdir(exist_ok=True)
    (stack.run_dir / "redis").mkdir(exist_ok=True)
    text = (
        f"[unix_http_server]\nfile={stack.socket_path}\nchmod=0700\n\n"
        f"[supervisord]\nlogfile={logs / 'supervisord.log'}\npidfile={stack.run_dir / 'supervisord.pid'}\n"
        f"directory={stack.run_dir}\nchildlogdir={logs}\n\n"
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n\n"
        f"[supervisorctl]\nserverurl=unix://{stack.socket_path}\n\n"
        + program("torchserve", torchserve, logs / "torchserve.log", stack,
                  f"directory={PROJECT_ROOT}\nenvironment={torchserve_env}\n")
        + program("redis", redis.command(), logs / "redis.log", stack)
        + program("nginx", nginx, logs / "nginx.log", stack, f"directory={PROJECT_ROOT}\nenvironment=PYTHONPATH=\"{PROJECT_ROOT}\"\n")
        + program("token-renewer", renewer, logs / "token_renewer.log", stack,
                  f"directory={PROJECT_ROOT}\nenvironment=PYTHONPATH=\"{PROJECT_ROOT}\"\n")
    )
    stack.conf_path.write_text(text, encoding="utf-8")
    return stack.conf_path


def supervisorctl(stack: SupervisedStack, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    binary = str(Path(sys.executable).with_name("supervisorctl"))
    return subprocess.run([binary, "-c", str(stack.conf_path), *args], capture_output=True, text=True, timeout=timeout)


def start(stack: SupervisedStack, stable_version: str, timeout: float = 300) -> None:
    """Render, start supervisord (it daemonizes) and wait until every program is RUNNING and
    TorchServe answers."""
    render(stack, stable_version)
    binary = str(Path(sys.executable).with_name("supervisord"))
    started = subprocess.run([binary, "-c", str(stack.conf_path)], capture_output=True, text=True, timeout=60)
    if started.returncode != 0:
        raise RuntimeError(f"supervisord did not start: {started.stderr.strip() or started.stdout.strip()}")
    wait_until(lambda: serving(stack) and all_running(stack), timeout=timeout, interval=1,
               what="TorchServe to serve and every supervised program to be RUNNING")


def all_running(stack: SupervisedStack) -> bool:
    status = supervisorctl(stack, "status")
    lines = [line.split() for line in status.stdout.splitlines() if line.strip()]
    return bool(lines) and all(len(parts) > 1 and parts[1] == "RUNNING" for parts in lines)


def serving(stack: SupervisedStack) -> bool:
    """TorchServe (as its launcher recorded it) names a default version of the model."""
    import requests

    from pipeline.services.torchserve import TorchServe

    try:
        return TorchServe.attach(stack.torchserve_dir).default_version(stack.model_name) is not None
    except (requests.RequestException, FileNotFoundError, KeyError):
        return False


def stop(stack: SupervisedStack) -> bool:
    """Stop every program, then supervisord itself; False when it was not running."""
    if not stack.socket_path.exists():
        return False
    result = supervisorctl(stack, "shutdown")
    pid_file = stack.run_dir / "supervisord.pid"
    wait_until(lambda: not pid_file.exists(), timeout=120, interval=0.5, what="supervisord to exit")
    return result.returncode == 0


# -- the supervised TorchServe program ---------------------------------------------------------------
def run_torchserve(args: argparse.Namespace) -> int:
    """Start TorchServe (snapshot first), then block until it exits: a dead JVM ends this program
    with EXIT_TORCHSERVE_DIED so supervisord restarts it; SIGTERM stops TorchServe and exits 0."""
    from pipeline.services.torchserve import TorchServe

    inference, management, metrics, *grpc = (int(p) for p in args.ports.split(","))
    models = dict(m.split("=", 1) for m in args.model)
    ts = TorchServe(model_store=Path(args.model_store), run_dir=Path(args.run_dir), models=models,
                    inference_port=inference, management_port=management, metrics_port=metrics,
                    grpc_ports=tuple(grpc) or None)

    def terminate(signum, _frame):
        ts.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, terminate)
    ts.start(timeout=args.timeout, restore=True)
    ts.save_state()
    print(f"TorchServe up on {LOOPBACK}:{inference}, default versions "
          f"{ {name: ts.default_version(name) for name in models} }", flush=True)
    code = ts.process.proc.wait()
    print(f"TorchServe exited with code {code}: supervisord restarts this program", flush=True)
    return EXIT_TORCHSERVE_DIED


def exec_nginx(args: argparse.Namespace) -> int:
    """Kill the nginx processes a SIGKILLed master left (its workers, in the group it led), then
    become nginx. Only processes named nginx in that group are touched (the pid may be reused)."""
    try:
        old_master = int(Path(args.pid_file).read_text().strip())
    except (OSError, ValueError):
        old_master = None
    if old_master is not None:
        for entry in Path("/proc").iterdir():
            try:
                if entry.name.isdigit() and os.getpgid(int(entry.name)) == old_master and \
                        (entry / "cmdline").read_bytes().startswith(b"nginx"):
                    os.kill(int(entry.name), signal.SIGKILL)
            except OSError:
                continue  # gone meanwhile
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    os.execv(command[0], command)
    return 1  # not reached: execv replaces this process


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="program", required=True)
    ts = sub.add_parser("torchserve", help="TorchServe in the foreground for supervisord")
    ts.add_argument("--run-dir", required=True)
    ts.add_argument("--model-store", required=True)
    ts.add_argument("--ports", required=True, help="inference,management,metrics[,grpc inference,grpc management]")
    ts.add_argument("--model", action="append", default=[], help="name=file.mar served at the first start")
    ts.add_argument("--timeout", type=float, default=300.0)
    nginx = sub.add_parser("nginx", help="nginx in the foreground for supervisord, after a crashed master's leftovers")
    nginx.add_argument("--pid-file", required=True, help="the pid file of the previous nginx master")
    nginx.add_argument("command", nargs=argparse.REMAINDER, help="-- nginx and its arguments")
    args = parser.parse_args(argv)
    if args.program == "nginx":
        return exec_nginx(args)
    return run_torchserve(args)


if __name__ == "__main__":
    sys.exit(main())
