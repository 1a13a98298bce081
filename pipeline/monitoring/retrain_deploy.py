"""Closing the retraining loop: an accepted challenger is archived and rolled out as a canary.

`make retrain NEW_DATA=... DEPLOY=1` calls `deploy_challenger` after the gate (pipeline.monitoring.retrain):

    refused challenger            -> nothing: no archive, no proxy, no TorchServe call
    accepted + registered version -> gate decision on the version checked (the rollout's own check)
                                  -> archive into the serving TorchServe's model store, as
                                     `make archive MODEL=<challenger dir> VERSION=<v>` does
                                     (model_store/<model>_v<v>.mar)
                                  -> the canary rollout of `make canary` (pipeline.deploy.rollout.Rollout,
                                     same steps, checks and log) against the serving version:
                                     promoted (champion alias moved) or rolled back

Each step is logged here and in the rollout log; the outcome goes into the retrain report.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from pipeline.config import resolve_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeployOutcome:
    """What the deployment step did: `status` is not_deployed, promoted, rolled_back or aborted."""

    deployed: bool
    status: str
    reason: str
    version: str | None = None
    mar: str | None = None
    rollout_log: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def archive_challenger(params: dict, model_dir: Path, version: str, model_store: Path) -> Path:
    """<model_store>/<model>_v<version>.mar, built exactly as `make archive MODEL=dir VERSION=v`."""
    from pipeline.deploy.archive import ArchiveRequest, build_archive

    model = params["serve"]["model_name"]
    request = ArchiveRequest(model_dir=model_dir, version=str(version), model_name=model, mar_name=f"{model}_v{version}",
                             model_store=model_store,
                             parity_file=resolve_path(params["paths"]["processed_dir"]) / "test.jsonl")
    return build_archive(request, params)


def deploy_challenger(params: dict, report: dict, torchserve, proxy: Callable[[], object]) -> DeployOutcome:
    """Archive and canary-roll-out the challenger of a retrain `report` on `torchserve`; `proxy()`
    gives the canary nginx (started on demand, so a refused challenger starts nothing).

    Raises RolloutError when the rollout cannot start (gate decision not accepted, another rollout
    running, nothing served) and RolloutInterrupted / KeyboardInterrupt when stopped (the rollout
    leaves traffic on the serving version and its state resumable: `make canary MAR=...`).
    """
    from pipeline.deploy.rollout import GateCheck, Rollout, move_champion_alias

    version = report.get("challenger_version")
    if not report["comparison"]["better"]:
        outcome = DeployOutcome(False, "not_deployed", f"challenger refused by the gate: {report['comparison']['reason']}")
        log.info("deploy: nothing deployed (%s)", outcome.reason)
        return outcome
    if version is None:
        return DeployOutcome(False, "not_deployed", "challenger not registered (--no-register): the rollout needs a registry version")
    gate = GateCheck(params)
    note = gate(str(version))  # before anything is built: a version the registry's gate refused stops here
    log.info("deploy: v%s %s; archiving %s into %s", version, note, report["challenger_dir"], torchserve.model_store)
    mar = archive_challenger(params, Path(report["challenger_dir"]), str(version), Path(torchserve.model_store))
    log.info("deploy: canary rollout of %s against v%s", mar.name, torchserve.default_version(params["serve"]["model_name"]))
    rollout = Rollout(params, torchserve, proxy(), gate=gate, move_alias=move_champion_alias(params))
    state = rollout.start(mar)
    outcome = DeployOutcome(True, state.status, state.reason or "", str(version), str(mar), str(rollout.cfg.log_path))
    log.info("deploy: v%s %s (%s); decisions in %s", version, state.status, state.reason, rollout.cfg.log_path)
    return outcome
