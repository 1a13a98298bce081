#!/usr/bin/env python
"""Train the intent classifier (run_glue-style arguments; every default comes from params.yaml).

    python scripts/train_intent_classifier.py --prepare-data --params params.yaml
    python scripts/train_intent_classifier.py --epochs 1 --max-train-samples 500 --output-dir /tmp/m
    python scripts/train_intent_classifier.py --resume            # continue after a kill
    torchrun --nproc_per_node 2 scripts/train_intent_classifier.py --params params.yaml
    python scripts/train_intent_classifier.py --prepare-data --hyperparameter-search --n-trials 10
    python scripts/train_intent_classifier.py --use-best-params   # train with the study's best trial

Exit codes: 0 trained, 1 training failed, 2 bad arguments or config, 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from dataclasses import dataclass, field

from pipeline import cli
from pipeline.config import merged, resolve_path
from pipeline.modeling.workers import WorkersFailed, search


def opt(section: str, key: str, help: str):
    """An override of params[section][key]; None (the default) keeps the params.yaml value."""
    return field(default=None, metadata={"section": section, "key": key, "help": help})


@dataclass
class DataArgs:
    processed_dir: str | None = opt("paths", "processed_dir", "directory with train/val/test.jsonl")
    max_train_samples: int | None = opt("train", "max_train_samples", "use only this many training rows (quick runs, tests)")


@dataclass
class ModelArgs:
    base: str | None = opt("model", "base", "'minilm' or a local Hugging Face encoder directory (e.g. deberta-v3-base)")
    pooling: str | None = opt("model", "pooling", "token pooling")
    max_length: int | None = opt("model", "max_length", "max tokens per prompt")
    dropout: float | None = opt("model", "dropout", "dropout before the heads")
    freeze_layers: int | None = opt("model", "freeze_layers", "freeze the first k encoder layers")


@dataclass
class TrainArgs:
    epochs: int | None = opt("train", "epochs", "maximum epochs (early stopping may end sooner)")
    batch_size: int | None = opt("train", "batch_size", "rows per batch (per process under torchrun)")
    learning_rate: float | None = opt("train", "learning_rate", "AdamW peak learning rate")
    grad_accum_steps: int | None = opt("train", "grad_accum_steps", "batches per optimizer step")
    seed: int | None = field(default=None, metadata={"section": None, "key": "seed", "help": "random seed"})


GROUPS = (DataArgs, ModelArgs, TrainArgs)


def check(params: dict) -> None:
    """Fail before any model loads, naming the fix (run_glue's __post_init__ checks)."""
    from model_src.intent_classifier_model import POOLINGS

    m, t = params["model"], params["train"]
    if m["pooling"] not in POOLINGS:
        raise ValueError(f"model.pooling={m['pooling']!r}: choose one of {POOLINGS}")
    for key in ("epochs", "batch_size", "max_length"):
        value = t.get(key, m.get(key))
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    if not 0 < float(t["learning_rate"]) < 1:
        raise ValueError(f"train.learning_rate must be in (0, 1), got {t['learning_rate']}")


def build_parser() -> argparse.ArgumentParser:
    # imported here, after pipeline.cli set the offline defaults: the model module loads transformers
    from model_src.intent_classifier_model import POOLINGS

    parser = cli.parser(__doc__)
    parser.add_argument("--prepare-data", action="store_true", help="run pipeline.data.prepare first (ingest, split, augment)")
    parser.add_argument("--output-dir", default=None, help="model directory (default: params paths.model_dir)")
    parser.add_argument("--resume", action="store_true", help="continue from the last checkpoint")
    parser.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    parser.add_argument("--use-best-params", action="store_true",
                        help="apply params hpo.best_params_file (written by --hyperparameter-search); options below still win")
    hpo = parser.add_argument_group("hyper-parameter search (pipeline.modeling.hpo)")
    hpo.add_argument("--hyperparameter-search", action="store_true", help="run/continue the Optuna study instead of one training")
    hpo.add_argument("--n-trials", type=int, default=None, help="finished trials the study should reach (default: params hpo.n_trials)")
    hpo.add_argument("--storage", default=None, help="Optuna storage URL (default: params hpo.storage); postgresql+psycopg2://... for many workers")
    hpo.add_argument("--study-name", default=None, help="default: params hpo.study_name")
    hpo.add_argument("--worker-id", type=int, default=0, help="sampler seed offset, distinct per worker sharing a study")
    hpo.add_argument("--workers", type=int, default=1,
                     help="start this many worker processes on this machine sharing the study (one torch thread each)")
    hpo.add_argument("--threads", type=int, default=None, help="torch threads per trial (default: params train.num_threads)")
    choices = {"pooling": POOLINGS}
    for group in GROUPS:
        g = parser.add_argument_group(group.__name__)
        for f in dataclasses.fields(group):
            kind = f.type.split(" | ")[0] if isinstance(f.type, str) else f.type
            source = f"{f.metadata['section']}.{f.metadata['key']}" if f.metadata["section"] else f.metadata["key"]
            g.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                           type={"int": int, "float": float, "str": str}[kind], choices=choices.get(f.name),
                           help=f"{f.metadata['help']} (default: params {source})")
    return parser


def apply_args(params: dict, args: argparse.Namespace) -> dict:
    """params with the best HPO params (--use-best-params), then the explicit options, applied."""
    if args.use_best_params:
        from pipeline.modeling.hpo import load_best_overrides

        params = merged(params, load_best_overrides(params))
    overrides: dict = {}
    for group in GROUPS:
        for f in dataclasses.fields(group):
            value = getattr(args, f.name)
            if value is None:
                continue
            if f.metadata["section"] is None:  # a top-level key (seed)
                overrides[f.metadata["key"]] = value
            else:
                overrides.setdefault(f.metadata["section"], {})[f.metadata["key"]] = value
    return merged(params, overrides)


def prepare_data(params: dict) -> None:
    """The seed's --prepare-data: generate the raw file if there is none, then ingest/split/augment."""
    from pipeline.data.prepare import prepare

    raw = resolve_path(params["paths"]["raw_data"])
    if not raw.is_file():
        from pipeline.datagen.generate import write_raw_data

        logging.getLogger(__name__).info("No %s: generating the default sample data first", raw)
        write_raw_data(params, raw)
    prepare(params)


def run(params: dict, args: argparse.Namespace) -> dict:
    if args.hyperparameter_search:
        return search(params, workers=args.workers, worker_id=args.worker_id, n_trials=args.n_trials,
                      storage=args.storage, study_name=args.study_name, log_to_mlflow=not args.no_mlflow,
                      threads=args.threads)
    from pipeline.modeling.train import run_training

    return run_training(params, output_dir=args.output_dir, resume=args.resume, log_to_mlflow=not args.no_mlflow)


def main(argv: list[str] | None = None) -> int:
    rank = int(os.environ.get("RANK", "0"))  # under torchrun only rank 0 logs
    args, params = cli.start(build_parser(), argv, log_level=logging.INFO if rank == 0 else logging.WARNING)
    try:
        params = apply_args(params, args)
        check(params)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and (args.prepare_data or args.hyperparameter_search):
        print("error: --prepare-data and --hyperparameter-search do not run under torchrun "
              "(`make data` first; HPO starts its own worker processes)", file=sys.stderr)
        return 2
    if args.prepare_data:
        prepare_data(params)
    try:
        result = run(params, args)
    except KeyboardInterrupt:
        again = "rerun the same command to continue the study" if args.hyperparameter_search else "continue with --resume"
        print(f"interrupted: {again}", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError, WorkersFailed) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if rank == 0:
        print(json.dumps({k: v for k, v in result.items() if k != "history"}, indent=2))
    return 1 if "error" in result else 0


if __name__ == "__main__":
    sys.exit(main())
