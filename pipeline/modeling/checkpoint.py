"""Training checkpoints for `--resume`: weights, optimizer, scheduler, scaler, RNG and position.

A checkpoint is a directory: model.safetensors (weights) + trainer_state.pt (optimizer,
scheduler, scaler, RNG states, counters). trainer_state.pt holds only tensors and plain Python
values and is read with `torch.load(weights_only=True)`, so loading never runs pickled code.
Writes go to a temporary sibling directory that is renamed into place: a kill during a save
leaves the previous checkpoint intact.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

WEIGHTS = "model.safetensors"
STATE = "trainer_state.pt"


def rng_state() -> dict:
    return {"python": random.getstate(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    torch.set_rng_state(state["torch"])


def save_checkpoint(path: Path, model: torch.nn.Module, optimizer, scheduler, scaler, progress: dict) -> None:
    """Atomically write a checkpoint; `progress` holds epoch, step, position in epoch, best F1, history."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, str(tmp / WEIGHTS))
    torch.save(
        {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": rng_state(),
            "progress": progress,
        },
        tmp / STATE,
    )
    replace_dir(tmp, path)


def replace_dir(tmp: Path, path: Path) -> None:
    """Put the finished directory `tmp` in place of `path`: the old one moves aside first and is
    removed last, so a kill at any point leaves one complete directory."""
    old = path.with_name(path.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.rename(old)
    tmp.rename(path)
    shutil.rmtree(old, ignore_errors=True)


def load_checkpoint(path: Path, model: torch.nn.Module, optimizer=None, scheduler=None, scaler=None) -> dict:
    """Restore a checkpoint into the given objects (and the RNG); returns its progress dict."""
    path = Path(path)
    for name in (WEIGHTS, STATE):
        if not (path / name).is_file():
            raise FileNotFoundError(f"checkpoint {path} is incomplete: {name} missing")
    model.load_state_dict(load_file(str(path / WEIGHTS)), strict=True)
    state = torch.load(path / STATE, weights_only=True)
    if optimizer is not None:
        optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None:
        scheduler.load_state_dict(state["scheduler"])
    if scaler is not None and state["scaler"] is not None:
        scaler.load_state_dict(state["scaler"])
    set_rng_state(state["rng"])
    return state["progress"]

