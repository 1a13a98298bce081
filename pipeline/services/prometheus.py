"""Prometheus (Debian package `prometheus`) on loopback with the shipped config and alert rules.

serve_config/prometheus/prometheus.yml names the ports `make serve` uses; `render_config` writes a
copy with other targets (free ports in tests, a TorchServe elsewhere) and absolute rule paths, so
the rules Prometheus evaluates are the shipped files themselves.
"""

from __future__ import annotations

import json
import shutil
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, ManagedProcess, port_open, wait_until

CONFIG_DIR = PROJECT_ROOT / "serve_config" / "prometheus"
DEFAULT_RUN_DIR = PROJECT_ROOT / "run" / "prometheus"


def render_config(out: Path, targets: dict[str, list[str]] | None = None, scrape_interval: str | None = None,
                  template: Path = CONFIG_DIR / "prometheus.yml") -> Path:
    """The shipped config with `targets` per job name replaced and rule_files made absolute."""
    config = yaml.safe_load(template.read_text(encoding="utf-8"))
    config["rule_files"] = [str((template.parent / pattern).resolve()) for pattern in config.get("rule_files", [])]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for name, job_targets in (targets or {}).items():
        if name not in jobs:
            raise KeyError(f"{template} has no scrape job '{name}' (jobs: {', '.join(jobs)})")
        jobs[name]["static_configs"] = [{"targets": list(job_targets)}]
    if scrape_interval:
        config["global"]["scrape_interval"] = config["global"]["evaluation_interval"] = scrape_interval
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return out


@dataclass
class PrometheusServer:
    port: int = 9090
    run_dir: Path = DEFAULT_RUN_DIR
    targets: dict[str, list[str]] | None = None
    scrape_interval: str | None = None
    process: ManagedProcess | None = field(default=None, init=False)

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def start(self, timeout: float = 60.0) -> PrometheusServer:
        binary = shutil.which("prometheus")
        if binary is None:
            raise FileNotFoundError("prometheus not found: run `make system-deps` (Debian package prometheus)")
        if port_open(self.port):
            raise RuntimeError(f"port {self.port} on {LOOPBACK} is already in use")
        config = render_config(self.run_dir / "prometheus.yml", self.targets, self.scrape_interval)
        args = [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={self.run_dir / 'data'}",
            f"--web.listen-address={LOOPBACK}:{self.port}",
        ]
        self.process = ManagedProcess("prometheus", args, self.run_dir / f"prometheus-{self.port}.log").start()
        try:
            wait_until(lambda: self.process.running() and self.ready(), timeout, interval=0.5,
                       what=f"prometheus on {self.url}")
        except TimeoutError as exc:
            tail = self.process.log_tail()
            self.stop()
            raise RuntimeError(f"{exc}\n{tail}") from exc
        return self

    def ready(self) -> bool:
        with urllib.request.urlopen(f"{self.url}/-/ready", timeout=2) as resp:
            return resp.status == 200

    def api(self, path: str, **query: str) -> dict | list:
        """GET /api/v1/<path>; the `data` of a successful answer (ValueError otherwise)."""
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(query)}"
        with urllib.request.urlopen(url, timeout=10) as resp:
            body = json.loads(resp.read())
        if body.get("status") != "success":
            raise ValueError(f"{url}: {body}")
        return body["data"]

    def query(self, promql: str) -> list[dict]:
        """Instant query: the result vector ([{"metric": {...}, "value": [t, "v"]}, ...])."""
        return self.api("query", query=promql)["result"]

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
