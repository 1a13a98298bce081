#!/usr/bin/env python
"""Evaluate the intent classifier: metrics, calibration, plots, error analysis and a report.

    python scripts/evaluate_model.py --model-path models/intent_classifier --output-dir evaluation_results --live-examples
    python scripts/evaluate_model.py --model-path models:/intent_classifier@champion --realistic
    python scripts/evaluate_model.py --data my_prompts.csv            # your own labelled JSON/JSONL/CSV
    python scripts/evaluate_model.py --split val --no-calibrate --no-mlflow

Writes metrics.json, error_analysis.json, predictions_<set>.jsonl, plots/*.png, report.md and a
self-contained report.html into the output directory, fits the temperature on the val split
(calibration.json in the model directory) and logs the figures to the model's MLflow run.
Exit codes: 0 evaluated, 2 bad arguments, input data or model directory, 1 evaluation failed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path


def build_parser() -> argparse.ArgumentParser:
    p = cli.parser(__doc__)
    p.add_argument(
        "--model-path",
        default=None,
        help="model directory or models:/intent_classifier@<alias> | /<version> (default: params paths.model_dir)",
    )
    p.add_argument("--output-dir", default=None, help="where results go (default: params paths.eval_dir)")
    p.add_argument(
        "--data",
        type=Path,
        default=None,
        help="evaluate this labelled JSON/JSONL/CSV file instead of a split",
    )
    p.add_argument(
        "--split",
        choices=("test", "val"),
        default="test",
        help="processed split when no --data (default: test)",
    )
    p.add_argument(
        "--calibrate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fit temperature scaling on the val split and store it with the model (default: on); "
        "--no-calibrate keeps the stored calibration.json, if any",
    )
    p.add_argument(
        "--realistic", action="store_true", help="also evaluate the hand-written realistic test/dev sets"
    )
    p.add_argument("--strict", action="store_true", help="fail on any bad input row instead of reporting it")
    p.add_argument(
        "--live-examples",
        action="store_true",
        help="print predictions for built-in prompts (+ interactive on a TTY)",
    )
    p.add_argument(
        "--latency-samples",
        type=int,
        default=None,
        help="prompts to time one by one (default: params eval.latency_samples)",
    )
    p.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    return p


def print_summary(results: dict) -> None:
    for name, d in results["datasets"].items():
        m, c = d["metrics"], d["complexity"]
        print(
            f"{name:>16} ({m['n']} rows): accuracy {m['accuracy']:.3f}  F1 weighted {m['f1_weighted']:.3f}  "
            f"macro {m['f1_macro']:.3f}  ECE {d['uncalibrated']['ece']:.3f} -> {m['ece']:.3f}  "
            f"complexity acc {c['level_accuracy']:.3f}"
        )
    if results.get("latency"):
        lat = results["latency"]
        print(
            f"latency one prompt: p50 {lat['p50_ms']:.1f} ms  p95 {lat['p95_ms']:.1f} ms; model {results['model_size']['total_mb']:.1f} MB"
        )
    print(f"headline: {results['headline']}")
    if results.get("mlflow_run_id"):
        print(f"logged to MLflow run {results['mlflow_run_id']}")


def main(argv: list[str] | None = None) -> int:
    args, params = cli.start(build_parser(), argv)
    from pipeline.evaluation.evaluate import EvalConfig, configure_threads, evaluate

    try:
        cfg = EvalConfig(
            model_path=args.model_path or params["paths"]["model_dir"],
            output_dir=resolve_path(args.output_dir or params["paths"]["eval_dir"]),
            data=args.data,
            split=args.split,
            calibrate=args.calibrate,
            realistic=args.realistic,
            strict=args.strict,
            log_mlflow=not args.no_mlflow,
            latency_samples=args.latency_samples,
        )
        configure_threads(params)
        results = evaluate(cfg, params)
    except (FileNotFoundError, KeyError, ValueError) as exc:  # DataValidationError is a ValueError
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    print_summary(results)
    print(f"report: {cfg.output_dir / 'report.html'} (and report.md, metrics.json, plots/)")
    if args.live_examples:
        from pipeline.evaluation.live_examples import interactive, show_examples
        from pipeline.modeling.predict import Predictor

        predictor = Predictor(results["model"]["path"])  # reads the calibration.json just written
        show_examples(predictor, top_k=params["eval"]["top_k"])
        if sys.stdin.isatty():
            interactive(predictor, top_k=params["eval"]["top_k"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
