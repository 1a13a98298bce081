#!/usr/bin/env python
"""Most uncertain prompts (margin or entropy), near-duplicates removed, into a CSV to label.

    make uncertain N=100                              # from the prediction log (needs monitor.log_raw_text: true)
    python scripts/select_uncertain.py --n 100 --prompts prompts.txt --model-dir models/intent_classifier
    # label the `intent` column, then: make retrain NEW_DATA=monitoring_results/uncertain.csv

Prompts already in the labelled dataset (params paths.raw_data, or --exclude files) are skipped.
Exit codes: 0 CSV written, 2 bad input (no raw text in the log, missing file, bad rows).
"""

from __future__ import annotations

import sys

from pipeline import cli
from pipeline.config import resolve_path

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--n", type=int, default=100, help="prompts to select")
    p.add_argument("--log", default=None, help="prediction log file or dir (default: dir of monitor.prediction_log.path)")
    p.add_argument("--prompts", default=None, help="score this .txt/.jsonl/.csv of prompts with --model-dir instead of the log")
    p.add_argument("--model-dir", default=None, help="model for --prompts (default: paths.model_dir)")
    p.add_argument("--method", default=None, choices=["margin", "entropy"], help="default: monitor.uncertainty")
    p.add_argument("--jaccard", type=float, default=None, help="near-duplicate threshold (default: monitor.near_duplicate_jaccard)")
    p.add_argument("--exclude", nargs="*", default=None, help="labelled files whose prompts are skipped (default: paths.raw_data)")
    p.add_argument("--out", default=None, help="CSV to write (default: monitor.output_dir/uncertain.csv)")
    args, params = cli.start(p, argv)
    cfg = params["monitor"]
    from model_src.prediction_log import read_prediction_log, text_hash
    from pipeline.monitoring.active_learning import (
        candidates_from_log,
        candidates_from_predictions,
        read_prompts,
        select_uncertain,
        write_labelling_csv,
    )

    try:
        if args.prompts:
            from pipeline.modeling.predict import Predictor

            texts = read_prompts(resolve_path(args.prompts))
            model_dir = resolve_path(args.model_dir or params["paths"]["model_dir"])
            if not model_dir.is_dir():
                raise FileNotFoundError(f"model directory not found: {model_dir}")
            candidates = candidates_from_predictions(texts, Predictor(model_dir).predict(texts), model_dir.name)
        else:
            log = resolve_path(args.log) if args.log else resolve_path(cfg["prediction_log"]["path"]).parent
            candidates = candidates_from_log(read_prediction_log(log))
        exclude = set()
        exclude_files = args.exclude if args.exclude is not None else [params["paths"]["raw_data"]]
        for f in map(resolve_path, exclude_files):
            if f.is_file():
                from pipeline.data.ingest import load_labelled_file

                rows, _ = load_labelled_file(f, params)
                exclude |= {text_hash(r["text"]) for r in rows}
            elif args.exclude is not None:
                raise FileNotFoundError(f"--exclude file not found: {f}")
        chosen = select_uncertain(candidates, args.n, args.method or cfg["uncertainty"],
                                  float(args.jaccard if args.jaccard is not None else cfg["near_duplicate_jaccard"]), exclude)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    out = resolve_path(args.out or f"{cfg['output_dir']}/uncertain.csv")
    write_labelling_csv(chosen, out)
    print(f"{len(chosen)} of {len(candidates)} candidate prompts selected ({len(exclude)} labelled prompts excluded) -> {out}")
    if len(chosen) < args.n:
        print(f"note: only {len(chosen)} distinct prompts were available (asked for {args.n})")
    print(f"label the 'intent' column, then: make retrain NEW_DATA={out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
