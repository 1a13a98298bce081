"""The servers of a soak run: TorchServe, its token renewer, Redis and the canary nginx under
supervisord (pipeline.services.supervision, what `make supervise` runs), on free loopback ports in a
private work directory, so a user's `make serve` / `make supervise` on the default ports is never
touched. Also the archives the run rolls out, and the processes whose memory it watches."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import psutil

from pipeline.services import free_port, supervision
from pipeline.services.nginx import NginxProxy
from pipeline.services.torchserve import TorchServe


@dataclass(frozen=True)
class SoakArchives:
    """Stable v1, v2 (same weights: a canary that should be promoted), v3 (labels rotated: one that
    the probe's agreement check must roll back)."""

    stable: str
    good: str
    bad: str


def build_archives(model_dir: Path, store: Path, params: dict, work: Path) -> SoakArchives:
    from pipeline.deploy.archive import ArchiveRequest, build_archive

    name = params["serve"]["model_name"]
    rotated = work / "model_rotated_labels"
    shutil.rmtree(rotated, ignore_errors=True)
    shutil.copytree(model_dir, rotated)
    config = json.loads((rotated / "model_config.json").read_text(encoding="utf-8"))
    config["intents"] = config["intents"][1:] + config["intents"][:1]
    (rotated / "model_config.json").write_text(json.dumps(config), encoding="utf-8")
    built = {}
    for version, source, mar_name in (("1", model_dir, name), ("2", model_dir, f"{name}_v2"), ("3", rotated, f"{name}_v3")):
        request = ArchiveRequest(model_dir=source, version=version, model_name=name, mar_name=mar_name, model_store=store)
        built[version] = build_archive(request, params).name
    return SoakArchives(built["1"], built["2"], built["3"])


def soak_stack(params: dict, work: Path, store: Path, stable_mar: str) -> supervision.SupervisedStack:
    """The supervisord stack with every program on a free port under work/stack (not started:
    `supervision.start(stack, "1")`; created first so that whatever interrupts the start can stop it)."""
    name = params["serve"]["model_name"]
    return supervision.SupervisedStack.from_params(
        params, run_dir=work / "stack", model_store=store, models={name: stable_mar},
        inference_port=free_port(), management_port=free_port(), metrics_port=free_port(),
        grpc_ports=(free_port(), free_port()), redis_port=free_port(), proxy_port=free_port())


def torchserve(stack: supervision.SupervisedStack) -> TorchServe:
    return TorchServe.attach(stack.torchserve_dir)


def proxy(stack: supervision.SupervisedStack) -> NginxProxy:
    """The supervised nginx, attached afresh (a rollout moves its config generation on)."""
    return NginxProxy.attach(stack.proxy_prefix)


def jvm_pids(stack: supervision.SupervisedStack) -> list[int]:
    """The TorchServe JVM(s) of this stack (started with cwd = its run dir)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "cwd"]):
        try:
            if "org.pytorch.serve.ModelServer" in (proc.info["cmdline"] or []) and \
                    Path(proc.info["cwd"] or "/") == stack.torchserve_dir.resolve():
                found.append(proc.pid)
        except (psutil.Error, OSError):
            continue
    return found


def role(proc: psutil.Process) -> str:
    """A readable name for a process of the stack."""
    cmdline = " ".join(proc.cmdline())
    for marker, name in (("org.pytorch.serve.ModelServer", "TorchServe JVM"), ("model_service_worker", "TorchServe worker"),
                         ("supervision torchserve", "TorchServe launcher"), ("token_renewer", "token renewer"),
                         ("redis-server", "Redis"), ("nginx: master", "nginx master"), ("nginx: worker", "nginx worker"),
                         ("supervisord", "supervisord"), ("torchserve --start", "torchserve launcher script")):
        if marker in cmdline:
            return name
    return proc.name()


def stack_rss(stack: supervision.SupervisedStack) -> list[dict]:
    """RSS (MB) of supervisord, every process it runs and their children, and this driver process."""
    rows = []
    try:
        root = psutil.Process(int((stack.run_dir / "supervisord.pid").read_text().strip()))
        procs = [root, *root.children(recursive=True)]
    except (OSError, ValueError, psutil.Error):
        procs = []
    for proc in [*procs, psutil.Process(os.getpid())]:
        try:
            name = "soak driver (clients)" if proc.pid == os.getpid() else role(proc)
            rows.append({"role": name, "pid": proc.pid, "rss_mb": round(proc.memory_info().rss / 2**20, 1)})
        except psutil.Error:
            continue
    return sorted(rows, key=lambda r: (r["role"], r["pid"]))
