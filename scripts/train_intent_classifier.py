#!/usr/bin/env python
"""Train the intent classifier (run_glue-style arguments; every default comes from params.yaml).

    python scripts/train_intent_classifier.py --prepare-data --config params.yaml
    python scripts/train_intent_classifier.py --epochs 1 --max-train-samples 500 --output-dir /tmp/m
    python scripts/train_intent_classifier.py --resume            # continue after a kill
    torchrun --nproc_per_node 2 scripts/train_intent_classifier.py --config params.yaml
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
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from model_src.intent_classifier_model import POOLINGS  # noqa: E402 (after the env defaults)
from pipeline.config import DEFAULT_PARAMS_PATH, load_params, merged, resolve_path  # noqa: E402


def opt(section: str, key: str, help: str, **kw):
    """An override of params[section][key]; None (the default) keeps the params.yaml value."""
    return field(default=None, metadata={"section": section, "key": key, "help": help, **kw})


@dataclass
class DataArgs:
    processed_dir: str | None = opt("paths", "processed_dir", "directory with train/val/test.jsonl")
    max_train_samples: int | None = opt("train", "max_train_samples", "use only this many training rows (quick runs, tests)")


@dataclass
class ModelArgs:
    base: str | None = opt("model", "base", "'minilm' or a local Hugging Face encoder directory (e.g. deberta-v3-base)")
    pooling: str | None = opt("model", "pooling", "token pooling", choices=POOLINGS)
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


def check(params: dict) -> None:
    """Fail before any model loads, naming the fix (run_glue's __post_init__ checks)."""
    m, t = params["model"], params["train"]
    if m["pooling"] not in POOLINGS:
        raise ValueError(f"model.pooling={m['pooling']!r}: choose one of {POOLINGS}")
    for key in ("epochs", "batch_size", "max_length"):
        value = t.get(key, m.get(key))
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{key} must be a positive integer, got {value!r}")
    if not 0 < float(t["learning_rate"]) < 1:
        raise ValueError(f"train.learning_rate must be in (0, 1), got {t['learning_rate']}")


def build_parser(groups=(DataArgs, ModelArgs, TrainArgs)) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default=str(DEFAULT_PARAMS_PATH), help="params.yaml to read (default: the repo's)")
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
    for group in groups:
        g = parser.add_argument_group(group.__name__)
        for f in dataclasses.fields(group):
            kind = f.type.split(" | ")[0] if isinstance(f.type, str) else f.type
            source = f"{f.metadata['section']}.{f.metadata['key']}" if f.metadata["section"] else f.metadata["key"]
            g.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, default=None,
                           type={"int": int, "float": float, "str": str}[kind], choices=f.metadata.get("choices"),
                           help=f"{f.metadata['help']} (default: params {source})")
    return parser


def params_from_args(args: argparse.Namespace, groups=(DataArgs, ModelArgs, TrainArgs)) -> dict:
    params = load_params(args.config)
    if getattr(args, "use_best_params", False):
        from pipeline.modeling.hpo import load_best_overrides

        params = merged(params, load_best_overrides(params))
    overrides: dict = {}
    for group in groups:
        for f in dataclasses.fields(group):
            value = getattr(args, f.name)
            if value is None:
                continue
            if f.metadata["section"] is None:
                params[f.metadata["key"]] = value
            else:
                overrides.setdefault(f.metadata["section"], {})[f.metadata["key"]] = value
    return merged(params, overrides)


def prepare_data(params: dict, config: str) -> None:
    """The seed's --prepare-data: generate the raw file if there is none, then ingest/split/augment."""
    from pipeline.data.prepare import prepare

    raw = resolve_path(params["paths"]["raw_data"])
    if not raw.is_file():
        logging.getLogger(__name__).info("No %s: generating the default sample data first", raw)
        generator = Path(__file__).with_name("generate_sample_data.py")
        subprocess.run([sys.executable, str(generator), "--params", config, "--output", str(raw)], check=True)
    prepare(params)


def main(argv: list[str] | None = None) -> int:
    rank = int(os.environ.get("RANK", "0"))  # under torchrun only rank 0 logs
    logging.basicConfig(level=logging.INFO if rank == 0 else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    try:
        params = params_from_args(args)
        check(params)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.prepare_data:
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            print("error: --prepare-data under torchrun: run `make data` first, then torchrun", file=sys.stderr)
            return 2
        prepare_data(params, args.config)
    if args.hyperparameter_search:
        return run_hpo(params, args)

    from pipeline.modeling.train import run_training

    try:
        result = run_training(params, output_dir=args.output_dir, resume=args.resume, log_to_mlflow=not args.no_mlflow)
    except KeyboardInterrupt:
        print("interrupted: continue with --resume", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if rank == 0:
        summary = {k: v for k, v in result.items() if k != "history"}
        print(json.dumps(summary, indent=2))
    return 0


def run_hpo(params: dict, args: argparse.Namespace) -> int:
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        print("error: --hyperparameter-search runs one process per worker, not under torchrun", file=sys.stderr)
        return 2
    from pipeline.modeling.hpo import run_study

    try:
        if args.workers > 1:
            failed = run_workers(params, args)
            if failed:
                print(f"error: HPO worker(s) {failed} failed: see logs/hpo_worker<i>.log", file=sys.stderr)
                return 1
        summary = run_study(params, n_trials=args.n_trials, storage=args.storage, study_name=args.study_name,
                            worker_id=args.worker_id, log_to_mlflow=not args.no_mlflow, threads=args.threads)
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to continue the study", file=sys.stderr)
        return 130
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, indent=2))
    return 1 if "error" in summary else 0


def run_workers(params: dict, args: argparse.Namespace) -> list[int]:
    """Start `--workers` copies of this command (one torch thread each) on one study; ids of failed ones.

    The study, MLflow experiment and parent run are created first, so the workers never race to
    create them. Afterwards the caller's own run_study finds the target reached and only writes
    the summary, best params and plots.
    """
    import subprocess

    from pipeline.config import PROJECT_ROOT
    from pipeline.modeling import hpo

    study = hpo.create_study(params, args.storage, args.study_name)
    if not args.no_mlflow:
        hpo.parent_run_id(study, params, hpo.storage_url(params, args.storage))
    argv, skip = [], False
    for item in sys.argv[1:]:  # this command without --workers/--worker-id/--threads/--prepare-data
        if skip:
            skip = False
        elif item in ("--workers", "--worker-id", "--threads"):
            skip = True
        elif item != "--prepare-data" and not item.startswith(("--workers=", "--worker-id=", "--threads=")):
            argv.append(item)
    threads = args.threads or max(1, int(params["train"].get("num_threads", 1)) // args.workers)
    log_dir = PROJECT_ROOT / "logs"
    log_dir.mkdir(exist_ok=True)
    procs = []
    for i in range(args.workers):
        log_file = (log_dir / f"hpo_worker{i}.log").open("w")
        procs.append(subprocess.Popen([sys.executable, __file__, *argv, "--worker-id", str(i), "--threads", str(threads)],
                                      stdout=log_file, stderr=subprocess.STDOUT))
        log_file.close()
        print(f"worker {i}: pid {procs[-1].pid}, log {log_dir / f'hpo_worker{i}.log'}", file=sys.stderr)
    try:
        codes = [p.wait() for p in procs]
    except KeyboardInterrupt:
        for p in procs:
            p.terminate()
        raise
    return [i for i, code in enumerate(codes) if code != 0]


if __name__ == "__main__":
    sys.exit(main())
