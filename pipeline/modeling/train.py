"""Fine-tune the intent classifier: one function, `run_training(params)`, for the CLI, HPO and retraining.

    single process:  python scripts/train_intent_classifier.py --params params.yaml
    DDP on 2 CPUs:   torchrun --nproc_per_node 2 scripts/train_intent_classifier.py --params params.yaml

AdamW (no weight decay on biases and LayerNorm weights), cosine schedule with linear warmup,
gradient accumulation, AMP (bf16 autocast on CPU, fp16 + GradScaler on CUDA), multi-task loss
(intent + weight x complexity), early stopping on validation weighted F1. The best model is
written to the model directory whenever validation improves; `last` and `best` checkpoints carry
everything needed to continue after a kill, even mid-epoch (see pipeline.modeling.checkpoint and
pipeline.modeling.train_data for why the continuation is exact). Under torchrun every rank trains on its
DistributedSampler share; only rank 0 logs, saves and evaluates the final model.
"""

from __future__ import annotations

import json
import logging
import math
import os
import random
import resource
import shutil
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from sklearn.metrics import accuracy_score, f1_score
from transformers import get_cosine_schedule_with_warmup

from model_src.intent_classifier_model import IntentClassifier, load_tokenizer
from pipeline.config import resolve_path
from pipeline.modeling.checkpoint import load_checkpoint, replace_dir, save_checkpoint
from pipeline.modeling.encoders import resolve_encoder_path
from pipeline.modeling.train_data import (
    EncodedSplit,
    collate,
    encode_split,
    length_bucketed_batches,
    read_jsonl_split,
    steps_per_epoch,
)
from pipeline.modeling.warm_start import init_from_champion
from pipeline.progress import progress_bar

log = logging.getLogger(__name__)

SPLITS = ("train", "val", "test")
EVAL_BATCH_SIZE = 64
NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "LayerNorm.bias")


# -----------------------------------------------------------------------------
# setup


@dataclass
class Dist:
    rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def init_distributed(device: torch.device) -> Dist:
    """Join the torchrun process group when launched by torchrun (WORLD_SIZE > 1)."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Dist()
    if not torch.distributed.is_initialized():
        torch.distributed.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Dist(rank=torch.distributed.get_rank(), world_size=torch.distributed.get_world_size())


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def model_and_checkpoint_dirs(params: dict, output_dir: str | Path | None) -> tuple[Path, Path]:
    """Model dir (best model) and its checkpoint dir; an explicit output_dir gets a sibling `<dir>_checkpoints`."""
    if output_dir is None:
        return resolve_path(params["paths"]["model_dir"]), resolve_path(params["paths"]["checkpoint_dir"])
    model_dir = Path(output_dir).resolve()
    return model_dir, model_dir.with_name(model_dir.name + "_checkpoints")


def load_splits(params: dict) -> dict[str, list[dict]]:
    processed = resolve_path(params["paths"]["processed_dir"])
    splits = {
        name: read_jsonl_split(processed / f"{name}.jsonl", params["intents"], params["complexity_levels"])
        for name in SPLITS
    }
    dev = params["paths"].get("realistic_dev")
    if dev and resolve_path(dev).is_file():  # hand-written dev set: watched every epoch, never trained on
        splits["realistic_dev"] = read_jsonl_split(resolve_path(dev), params["intents"], params["complexity_levels"],
                                                   need_score=False)
    limit = params["train"].get("max_train_samples")
    if limit is not None and limit < len(splits["train"]):
        rows = list(splits["train"])
        random.Random(params["seed"]).shuffle(rows)
        splits["train"] = rows[: int(limit)]
    return splits


def feature_stats(train_features: np.ndarray) -> tuple[list[float], list[float]]:
    """Mean/std of the training features; a constant feature gets std 1 instead of a division by 0."""
    mean = train_features.mean(0)
    std = train_features.std(0)
    std = np.where(std < 1e-6, 1.0, std)
    return mean.astype(float).tolist(), std.astype(float).tolist()


def build_model(params: dict, encoder_dir: Path, features: dict | None) -> IntentClassifier:
    m = params["model"]
    feats = features or {}
    return IntentClassifier.from_encoder(
        encoder_dir,
        intents=params["intents"],
        complexity_levels=params["complexity_levels"],
        pooling=m["pooling"],
        dropout=float(m["dropout"]),
        max_length=int(m["max_length"]),
        feature_names=feats.get("names"),
        feature_mean=feats.get("mean"),
        feature_std=feats.get("std"),
        freeze_embeddings=bool(m.get("freeze_embeddings", False)),
        freeze_layers=int(m.get("freeze_layers", 0)),
        base=str(m["base"]),
    )


def param_groups(model: torch.nn.Module, weight_decay: float) -> list[dict]:
    """AdamW groups: decay on weight matrices only (not biases, not LayerNorm gains), trainable only."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if p.requires_grad:
            (no_decay if name.endswith(NO_DECAY) else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def autocast(device: torch.device, enabled: bool):
    if not enabled:
        return nullcontext()
    dtype = torch.float16 if device.type == "cuda" else torch.bfloat16
    return torch.autocast(device.type, dtype=dtype)


def save_model_dir(model: IntentClassifier, tokenizer, params: dict, model_dir: Path) -> None:
    """Write the model directory atomically (a reader never sees half a model)."""
    tmp = model_dir.with_name(model_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.save_pretrained(tmp, tokenizer=tokenizer)
    (tmp / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False), encoding="utf-8")
    replace_dir(tmp, model_dir)


# -----------------------------------------------------------------------------
# evaluation


def classification_metrics(y_true, y_pred, level_true, level_pred, score_true=None, score_pred=None) -> dict:
    out = {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "weighted_f1": float(f1_score(y_true, y_pred, average="weighted", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "complexity_accuracy": float(accuracy_score(level_true, level_pred)),
    }
    if score_true is not None:
        out["complexity_score_mae"] = float(np.abs(np.asarray(score_true) - np.asarray(score_pred)).mean())
    return out


@torch.inference_mode()
def evaluate(model: IntentClassifier, split: EncodedSplit, pad_id: int, token_types: bool,
             device: torch.device, amp: bool, complexity_weight: float) -> dict:
    """Validation metrics + loss on a whole split (length-sorted batches)."""
    was_training = model.training
    model.eval()
    preds, levels, scores, losses = [], [], [], []
    batches = length_bucketed_batches(split.lengths, EVAL_BATCH_SIZE, seed=0, epoch=0, shuffle=False)
    for batch in batches:
        b = {k: v.to(device) for k, v in collate(split, batch, pad_id, token_types).items()}
        with autocast(device, amp):
            out = model(b["input_ids"], b["attention_mask"], b.get("token_type_ids"), b.get("features"))
        losses.append(float(IntentClassifier.loss(out, b["intent"], b["level"], b["score"], complexity_weight)) * len(batch))
        preds.append(out[0].argmax(-1).cpu())
        levels.append(out[1].argmax(-1).cpu())
        scores.append(out[2].float().cpu())
    order = torch.tensor([i for batch in batches for i in batch])
    model.train(was_training)
    metrics = classification_metrics(
        split.intent[order], torch.cat(preds), split.level[order], torch.cat(levels), split.score[order], torch.cat(scores)
    )
    metrics["loss"] = sum(losses) / len(order)
    return metrics


def evaluate_model_dir(model_dir: Path, params: dict) -> dict:
    """The saved best model, through the serving Predictor, on the test split and the hand-written sets."""
    from pipeline.modeling.predict import Predictor

    predictor = Predictor(model_dir)
    intents, levels = params["intents"], params["complexity_levels"]
    sets = {"test": (resolve_path(params["paths"]["processed_dir"]) / "test.jsonl", True)}
    for name in ("realistic_test", "realistic_dev"):
        path = params["paths"].get(name)
        if path and resolve_path(path).is_file():
            sets[name] = (resolve_path(path), False)
        else:
            log.warning("%s (%s) not found: not evaluated", name, path)
    results = {}
    for name, (path, has_score) in sets.items():
        rows = read_jsonl_split(path, intents, levels, need_score=has_score)
        probs, level_probs, score = predictor.predict_proba([r["text"] for r in rows])
        results[name] = classification_metrics(
            [intents.index(r["intent"]) for r in rows], probs.argmax(1),
            [levels.index(r["complexity"]) for r in rows], level_probs.argmax(1),
            [r["complexity_score"] for r in rows] if has_score else None, score if has_score else None,
        )
        results[name]["n"] = len(rows)
        log.info("%s (%d rows): accuracy %.4f, weighted F1 %.4f", name, len(rows),
                 results[name]["accuracy"], results[name]["weighted_f1"])
    return results


# -----------------------------------------------------------------------------
# training: the steps of run_training


@dataclass
class RunSetup:
    """Where this process trains and writes: device, its place in the process group, output dirs."""

    device: torch.device
    dist: Dist
    model_dir: Path
    ckpt_dir: Path

    @property
    def last_ckpt(self) -> Path:
        return self.ckpt_dir / "last"

    @property
    def best_ckpt(self) -> Path:
        return self.ckpt_dir / "best"


@dataclass(frozen=True)
class LoopSettings:
    """params.train as the training loop reads it, converted once."""

    seed: int
    epochs: int
    batch_size: int
    accum: int
    amp: bool
    complexity_weight: float
    max_grad_norm: float
    checkpoint_every: int
    patience: int

    @classmethod
    def from_params(cls, params: dict) -> LoopSettings:
        tp = params["train"]
        return cls(
            seed=int(params["seed"]),
            epochs=int(tp["epochs"]),
            batch_size=int(tp["batch_size"]),
            accum=max(1, int(tp.get("grad_accum_steps", 1))),
            amp=bool(tp.get("amp", False)),
            complexity_weight=float(tp["complexity_loss_weight"]),
            max_grad_norm=float(tp["max_grad_norm"]),
            checkpoint_every=int(tp.get("checkpoint_every_steps") or 0),
            patience=int(tp.get("early_stopping_patience") or 0),
        )


@dataclass
class TrainingData:
    """Every split encoded once with the encoder's tokenizer, and the batching facts collate needs."""

    splits: dict[str, EncodedSplit]
    encoder_dir: Path
    tokenizer: Any  # the encoder's tokenizer, as load_tokenizer returns it
    pad_id: int
    token_types: bool
    features: dict | None  # complexity feature names + train mean/std, None when the model uses none


@dataclass
class TrainState:
    """What a training step changes; a checkpoint saves all of it, so a resumed run continues exactly."""

    model: IntentClassifier
    train_model: torch.nn.Module  # the model, or its DistributedDataParallel wrapper under torchrun
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None
    progress: dict

    def checkpoint(self, path: Path, dist: Dist) -> None:
        """Rank 0 writes for all: every rank holds the same weights and optimizer state."""
        if dist.is_main:
            save_checkpoint(path, self.model, self.optimizer, self.scheduler, self.scaler, self.progress)


def run_training(
    params: dict,
    *,
    output_dir: str | Path | None = None,
    resume: bool = False,
    on_epoch_end=None,
    mlflow_parent_run_id: str | None = None,
    log_to_mlflow: bool = True,
    init_model_dir: str | Path | None = None,
) -> dict:
    """Train, keep the best model by validation weighted F1, evaluate it; returns the figures.

    Args:
        params: the loaded params.yaml (with any overrides already merged).
        output_dir: model directory; default params paths.model_dir (checkpoints then in paths.checkpoint_dir).
        resume: continue from the `last` checkpoint (same params), even from the middle of an epoch.
        on_epoch_end: callback(epoch, val_metrics) after each validation; may raise optuna.TrialPruned.
        mlflow_parent_run_id: log this run nested under a parent (an HPO study).
        log_to_mlflow: False for tests and quick runs.
        init_model_dir: start from this model directory's weights (retraining, new intents) instead of
            the pretrained encoder and a fresh head; the intent head's rows are copied by intent name
            (pipeline.modeling.warm_start.init_from_champion), the directory's feature scaling is kept.

    Returns:
        dict with best_val_f1, test (and realistic_test / realistic_dev) metrics, model_dir,
        run_id, epochs_run, global_step, train_seconds, history, init_model_dir.
    """
    settings = LoopSettings.from_params(params)
    setup = set_up(params, output_dir, resume)
    data = load_data(params)
    model = load_model(params, data, setup.device, init_model_dir)
    state = make_train_state(params, model, len(data.splits["train"]), settings, setup, resume)
    run = _start_mlflow_run(params, state.progress, mlflow_parent_run_id, data_files=[
        resolve_path(params["paths"]["processed_dir"]) / f"{s}.jsonl" for s in SPLITS
    ], init_model_dir=init_model_dir) if (log_to_mlflow and setup.dist.is_main) else None
    state.progress["run_id"] = run.info.run_id if run else None

    with _ending_mlflow_run(run):
        for epoch in range(state.progress["epoch"], settings.epochs):
            if settings.patience and state.progress["bad_epochs"] >= settings.patience:
                break  # early stopping
            train_epoch(state, data, settings, setup, epoch)
            val = validate(state.model, data, settings, setup.device, epoch)
            improved = record_epoch(state.progress, val, epoch)
            if setup.dist.is_main:
                save_epoch(params, state, data.tokenizer, setup, improved)
                if run:
                    _log_epoch(val, epoch + 1)
            if setup.dist.enabled:
                torch.distributed.barrier()
            if on_epoch_end is not None:
                on_epoch_end(epoch, val)
        return final_evaluation(params, state.progress, setup, init_model_dir, run)


def set_up(params: dict, output_dir: str | Path | None, resume: bool) -> RunSetup:
    """Device, process group, thread count and seeds before anything draws a random number; a
    resume without a checkpoint fails here, before minutes of data loading."""
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    dist = init_distributed(device)
    # ranks share the cores
    torch.set_num_threads(max(1, int(params["train"].get("num_threads", 2)) // dist.world_size))
    seed_everything(int(params["seed"]))
    model_dir, ckpt_dir = model_and_checkpoint_dirs(params, output_dir)
    setup = RunSetup(device=device, dist=dist, model_dir=model_dir, ckpt_dir=ckpt_dir)
    if resume and not (setup.last_ckpt / "trainer_state.pt").is_file():
        raise FileNotFoundError(f"--resume: no checkpoint at {setup.last_ckpt}; train without --resume first")
    return setup


def load_data(params: dict) -> TrainingData:
    """Read and encode every split once, with the tokenizer of the encoder the model is built on.

    The optional complexity features are scaled by the training split's statistics only (the
    model stores them, so serving scales the same way).
    """
    mp = params["model"]
    log.info("Loading data from %s", resolve_path(params["paths"]["processed_dir"]))
    splits = load_splits(params)
    encoder_dir = resolve_encoder_path(str(mp["base"]))
    max_length = int(mp["max_length"])
    tokenizer = load_tokenizer(encoder_dir, max_length)
    features, raw = None, {name: None for name in splits}
    if mp.get("use_complexity_features", False):
        from model_src.features import FEATURE_NAMES, extract_features

        raw = {name: extract_features([r["text"] for r in rows]) for name, rows in splits.items()}
        mean, std = feature_stats(raw["train"])
        features = {"names": list(FEATURE_NAMES), "mean": mean, "std": std}
    encoded = {
        name: encode_split(rows, tokenizer, max_length, params["intents"], params["complexity_levels"], raw[name])
        for name, rows in splits.items()
    }
    log.info("Rows: %s", {name: len(d) for name, d in encoded.items()})
    return TrainingData(
        splits=encoded,
        encoder_dir=encoder_dir,
        tokenizer=tokenizer,
        pad_id=tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0,
        token_types="token_type_ids" in tokenizer.model_input_names,
        features=features,
    )


def load_model(params: dict, data: TrainingData, device: torch.device,
               init_model_dir: str | Path | None) -> IntentClassifier:
    """The classifier on the pretrained encoder, or warm-started from a model directory (retraining)."""
    mp = params["model"]
    log.info("Instantiating model <IntentClassifier %s, pooling=%s> from %s", mp["base"], mp["pooling"],
             data.encoder_dir)
    model = build_model(params, data.encoder_dir, data.features)
    if init_model_dir is not None:  # also on resume: the feature scaling is config, not in the checkpoint
        info = init_from_champion(model, Path(init_model_dir))
        log.info("Warm start from %s: %s", init_model_dir, info)
    return model.to(device)


def make_train_state(params: dict, model: IntentClassifier, n_train: int, settings: LoopSettings,
                     setup: RunSetup, resume: bool) -> TrainState:
    """Optimizer, cosine schedule (sized for the whole run) and AMP scaler, fresh or from the last
    checkpoint; a fresh run first deletes old checkpoints so a later resume cannot mix runs."""
    tp = params["train"]
    total_steps = steps_per_epoch(n_train, settings.batch_size, settings.accum, setup.dist.world_size) * settings.epochs
    optimizer = torch.optim.AdamW(param_groups(model, float(tp["weight_decay"])), lr=float(tp["learning_rate"]))
    scheduler = get_cosine_schedule_with_warmup(optimizer, int(float(tp["warmup_ratio"]) * total_steps), total_steps)
    scaler = torch.amp.GradScaler("cuda") if settings.amp and setup.device.type == "cuda" else None

    progress = {"epoch": 0, "position": 0, "global_step": 0, "best_val_f1": -1.0, "bad_epochs": 0,
                "history": [], "run_id": None, "train_seconds": 0.0}
    if resume:
        progress = load_checkpoint(setup.last_ckpt, model, optimizer, scheduler, scaler)
        log.info("Resumed from %s: epoch %d, batch %d, step %d", setup.last_ckpt, progress["epoch"] + 1,
                 progress["position"], progress["global_step"])
    elif setup.dist.is_main:
        shutil.rmtree(setup.ckpt_dir, ignore_errors=True)
    train_model = torch.nn.parallel.DistributedDataParallel(model) if setup.dist.enabled else model
    return TrainState(model, train_model, optimizer, scheduler, scaler, progress)


def train_epoch(state: TrainState, data: TrainingData, settings: LoopSettings, setup: RunSetup, epoch: int) -> None:
    """One pass over this rank's batches, from progress["position"] on (a resumed epoch skips what
    it already trained); saves `last` every checkpoint_every steps so a kill loses little."""
    progress, dist = state.progress, setup.dist
    t0 = time.time()
    batches = length_bucketed_batches(data.splits["train"].lengths, settings.batch_size, settings.seed, epoch,
                                      rank=dist.rank, world_size=dist.world_size)
    state.model.train()
    bar = progress_bar(total=len(batches), initial=progress["position"], desc=f"epoch {epoch + 1}/{settings.epochs}",
                       unit="batch", disable=not dist.is_main)
    for i in range(progress["position"], len(batches)):
        batch = {k: v.to(setup.device)
                 for k, v in collate(data.splits["train"], batches[i], data.pad_id, data.token_types).items()}
        is_step = (i + 1) % settings.accum == 0 or i + 1 == len(batches)
        # gradients are all-reduced only on the micro-batch that steps
        sync = nullcontext() if (is_step or not dist.enabled) else state.train_model.no_sync()
        with sync:
            loss = backward(state, batch, settings, setup.device)
        if is_step:
            optimizer_step(state, settings)
            progress["global_step"] += 1
            progress["position"] = i + 1
            if settings.checkpoint_every and progress["global_step"] % settings.checkpoint_every == 0:
                progress["train_seconds"] += time.time() - t0
                t0 = time.time()
                state.checkpoint(setup.last_ckpt, dist)
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item() * settings.accum:.3f}", lr=f"{state.scheduler.get_last_lr()[0]:.2e}")
    bar.close()
    progress["train_seconds"] += time.time() - t0


def backward(state: TrainState, batch: dict, settings: LoopSettings, device: torch.device) -> torch.Tensor:
    """Multi-task loss of one micro-batch, scaled for accumulation, and its gradients; returns the loss."""
    with autocast(device, settings.amp):
        out = state.train_model(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"),
                                batch.get("features"))
    loss = IntentClassifier.loss(out, batch["intent"], batch["level"], batch["score"],
                                 settings.complexity_weight) / settings.accum
    (state.scaler.scale(loss) if state.scaler else loss).backward()
    return loss


def optimizer_step(state: TrainState, settings: LoopSettings) -> None:
    """Clip (on unscaled gradients under fp16), step, advance the schedule, clear the gradients."""
    scaler, optimizer = state.scaler, state.optimizer
    if scaler:
        scaler.unscale_(optimizer)
    torch.nn.utils.clip_grad_norm_(state.model.parameters(), settings.max_grad_norm)
    if scaler:
        scaler.step(optimizer)
        scaler.update()
    else:
        optimizer.step()
    state.scheduler.step()
    optimizer.zero_grad(set_to_none=True)


def validate(model: IntentClassifier, data: TrainingData, settings: LoopSettings, device: torch.device,
             epoch: int) -> dict:
    """Validation metrics of the epoch, plus accuracy / F1 on the hand-written dev set when there is one
    (watched, never selected on: the best model is chosen by val weighted F1)."""
    def metrics(split: str) -> dict:
        return evaluate(model, data.splits[split], data.pad_id, data.token_types, device, settings.amp,
                        settings.complexity_weight)

    val = metrics("val")
    val["epoch"] = epoch + 1
    if "realistic_dev" in data.splits:
        dev = metrics("realistic_dev")
        val["realistic_dev_accuracy"], val["realistic_dev_weighted_f1"] = dev["accuracy"], dev["weighted_f1"]
    return val


def record_epoch(progress: dict, val: dict, epoch: int) -> bool:
    """Best F1 / early-stopping counters and history after an epoch; True when validation improved."""
    improved = val["weighted_f1"] > progress["best_val_f1"]
    if improved:
        progress["best_val_f1"], progress["bad_epochs"] = val["weighted_f1"], 0
    else:
        progress["bad_epochs"] += 1
    progress["history"].append(val)
    progress["epoch"], progress["position"] = epoch + 1, 0
    log.info("epoch %d: val accuracy %.4f, weighted F1 %.4f, loss %.4f, realistic_dev accuracy %s%s", epoch + 1,
             val["accuracy"], val["weighted_f1"], val["loss"], val.get("realistic_dev_accuracy"),
             " (best)" if improved else "")
    return improved


def save_epoch(params: dict, state: TrainState, tokenizer, setup: RunSetup, improved: bool) -> None:
    """Rank 0 after an epoch: an improved model becomes the model directory and the `best`
    checkpoint; `last` always, so a resume starts at the next epoch."""
    if improved:
        save_model_dir(state.model, tokenizer, params, setup.model_dir)
        state.checkpoint(setup.best_ckpt, setup.dist)
    state.checkpoint(setup.last_ckpt, setup.dist)


def final_evaluation(params: dict, progress: dict, setup: RunSetup, init_model_dir: str | Path | None,
                     run) -> dict:
    """The run's result; rank 0 adds the saved best model's test figures (through the serving
    Predictor, as deployed) and writes training_metrics.json next to it."""
    model_dir = setup.model_dir
    result = {"best_val_f1": progress["best_val_f1"], "model_dir": str(model_dir), "run_id": progress["run_id"],
              "epochs_run": progress["epoch"], "global_step": progress["global_step"],
              "train_seconds": round(progress["train_seconds"], 1), "history": progress["history"],
              "init_model_dir": str(init_model_dir) if init_model_dir is not None else None}
    if setup.dist.is_main:
        result.update(evaluate_model_dir(model_dir, params))
        # the box is shared: CPU seconds of this process say more about cost than wall time does
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["process_cpu_seconds"] = round(usage.ru_utime + usage.ru_stime, 1)
        result["load_average"] = list(os.getloadavg())
        (model_dir / "training_metrics.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
        if run:
            _log_final(result, model_dir)
    if setup.dist.enabled:
        torch.distributed.barrier()
    return result


# -----------------------------------------------------------------------------
# MLflow (rank 0 only)


@contextmanager
def _ending_mlflow_run(run):
    """End the run (if any) however training ends, with a status that says how."""
    status = "FINISHED"
    try:
        yield
    except BaseException as exc:
        # a pruned HPO trial is a normal end of a run; anything else (incl. Ctrl-C / kill) is not
        status = "FINISHED" if type(exc).__name__ == "TrialPruned" else ("KILLED" if isinstance(exc, KeyboardInterrupt) else "FAILED")
        if run:
            import mlflow

            mlflow.set_tag("ended_by", type(exc).__name__)
        raise
    finally:
        if run:
            import mlflow

            mlflow.end_run(status=status)


def _start_mlflow_run(params: dict, progress: dict, parent_run_id: str | None, data_files: list[Path],
                      init_model_dir: str | Path | None = None):
    import mlflow

    from pipeline.modeling.tracking import data_hash, dvc_revision, flat_params, git_commit, setup_mlflow

    experiment_id = setup_mlflow(params)
    if progress.get("run_id"):  # a resumed training continues its own run
        return mlflow.start_run(run_id=progress["run_id"])
    tags = {"git_commit": git_commit(), "data_hash": data_hash(data_files), "encoder": str(params["model"]["base"])}
    dvc_rev = dvc_revision()
    if dvc_rev:
        tags["dvc_lock_sha256"] = dvc_rev
    run = mlflow.start_run(experiment_id=experiment_id, parent_run_id=parent_run_id, nested=parent_run_id is not None,
                           run_name=f"train-{params['model']['base']}-{params['model']['pooling']}", tags=tags)
    mlflow.log_params({**flat_params(params), "init_model_dir": str(init_model_dir) if init_model_dir else "none"})
    mlflow.log_text(yaml.safe_dump(params, sort_keys=False), "params.yaml")
    return run


def _log_epoch(val: dict, epoch: int) -> None:
    import mlflow

    mlflow.log_metrics({f"val_{k}": v for k, v in val.items() if k != "epoch" and isinstance(v, float)}, step=epoch)


def _log_final(result: dict, model_dir: Path) -> None:
    import mlflow

    metrics = {"best_val_weighted_f1": result["best_val_f1"], "epochs_run": result["epochs_run"],
               "train_seconds": result["train_seconds"]}
    for name in ("test", "realistic_test", "realistic_dev"):
        for key, value in result.get(name, {}).items():
            if isinstance(value, float) and math.isfinite(value):
                metrics[f"{name}_{key}"] = value
    mlflow.log_metrics(metrics)
    mlflow.log_artifacts(str(model_dir), artifact_path="model")
