#!/usr/bin/env python
"""Prepare the training data: validate, clean, dedupe, split, augment (the DVC `prepare` stage).

    python scripts/prepare_data.py                       # params.yaml paths.raw_data
    python scripts/prepare_data.py --input my.csv        # your own JSON / JSONL / CSV file
    python scripts/prepare_data.py --input my.jsonl --strict   # fail on the first bad file

Exit codes: 0 ok, 1 unusable input or (with --strict) any bad row, 2 bad arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import cli
from pipeline.data.ingest import DataValidationError
from pipeline.data.prepare import prepare


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--input", type=Path, help="labelled .json/.jsonl/.csv (columns text, intent[, complexity]); "
                   "default: params paths.raw_data")
    p.add_argument("--strict", action="store_true", default=None,
                   help="fail (exit 1) on any bad row instead of reporting it and going on (default: params data.strict)")
    args, params = cli.start(p, argv)
    try:
        stats = prepare(params, input_path=args.input, strict=args.strict)
    except DataValidationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    rows = stats["rows"]
    print(
        f"rows read {rows['read']} = kept {rows['kept']} + rejected {rows['rejected']} "
        f"+ duplicates {rows['duplicates']} + conflicting labels {rows['conflicts']}"
    )
    aug = stats["augmentation"]
    print(
        f"augmentation: +{aug['added']} train rows (target {aug['target_new']}; dropped: unchanged "
        f"{aug['dropped_unchanged']}, duplicate {aug['dropped_duplicate']}, in val/test {aug['dropped_in_val_test']})"
    )
    print("splits: " + ", ".join(f"{name} {n}" for name, n in stats["splits"].items()))
    print(f"data hash {stats['data_hash'][:16]}; reports in {params['paths']['interim_dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
