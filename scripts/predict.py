#!/usr/bin/env python
"""Batch (offline) prediction: a prompts file in, one API answer per prompt out (JSONL).

    python scripts/predict.py --input prompts.jsonl --output predictions.jsonl
    python scripts/predict.py --input prompts.csv --output out.jsonl --model models:/intent_classifier@champion
    make predict INPUT=prompts.txt OUTPUT=predictions.jsonl [MODEL=...] [BATCH_SIZE=64]

Input: .jsonl (objects with a "text" field), .csv (a "text" column) or .txt (one prompt a line),
read as a stream. Each output row is the API's response object plus the input's "line". Bad rows
are reported as file:line on stderr and in <output>.errors.jsonl, and skipped.
Exit codes: 0 every row predicted, 1 some rows bad (the others predicted), 2 bad arguments,
input or model.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path

EXIT_SOME_BAD, EXIT_BAD_INPUT = 1, 2


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--input", type=Path, required=True, help="prompts file: .jsonl, .csv or .txt")
    p.add_argument("--output", type=Path, required=True, help="predictions JSONL (written atomically)")
    p.add_argument("--model", default=None,
                   help="model directory or models:/intent_classifier@<alias> | /<version> (default: params paths.model_dir)")
    p.add_argument("--batch-size", type=int, default=32, help="rows per forward pass (default: 32)")
    args, params = cli.start(p, argv)
    if args.batch_size < 1:
        p.error("--batch-size must be >= 1")

    from pipeline.evaluation.evaluate import resolve_model
    from pipeline.modeling.batch_predict import BatchPredictor, check_input_path, errors_path, predict_file

    input_path = resolve_path(args.input)
    try:
        check_input_path(input_path)
        model_dir, provenance = resolve_model(args.model or params["paths"]["model_dir"], params)
        batch = BatchPredictor(model_dir, params, provenance["version"] or model_dir.name, args.batch_size)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    output = resolve_path(args.output)
    started = time.perf_counter()
    try:
        result = predict_file(batch, input_path, output)
    except ValueError as exc:  # e.g. a CSV without a text column
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    seconds = time.perf_counter() - started
    print(f"{result.predicted} of {result.rows} rows predicted in {seconds:.1f} s "
          f"({result.predicted / seconds:.0f} prompts/s) -> {output}")
    if result.bad:
        print(f"{result.bad} bad rows skipped -> {errors_path(output)}")
        return EXIT_SOME_BAD
    return 0


if __name__ == "__main__":
    sys.exit(main())
