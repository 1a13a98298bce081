#!/usr/bin/env python
"""Generate labelled synthetic prompts (JSONL rows {"text", "intent", "complexity"}).

    python scripts/generate_sample_data.py                       # params.yaml defaults
    python scripts/generate_sample_data.py --num-samples 10000 --add-cross-intent --seed 7 --output data/raw/big.jsonl

Defaults come from params.yaml (generate.num_samples, seed, paths.raw_data). Prints the counts
per intent and per complexity level and the share of distinct texts. Exit code 0 on success,
1 on a configuration error (e.g. an intent without a template bank), 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from pipeline.config import load_params, resolve_path
from pipeline.datagen.generate import generate_samples

ROW_KEYS = ("text", "intent", "complexity")


def parse_args(argv: list[str] | None, params: dict) -> argparse.Namespace:
    gen = params.get("generate", {})
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--num-samples", type=int, default=int(gen.get("num_samples", 6000)),
                        help="rows to write, balanced over the intents (default: generate.num_samples)")
    parser.add_argument("--add-cross-intent", action="store_true", default=None,
                        help="include cross-intent prompts (share: generate.cross_intent_ratio); "
                             "default: generate.add_cross_intent")
    parser.add_argument("--no-cross-intent", dest="add_cross_intent", action="store_false",
                        help="leave cross-intent prompts out even if params.yaml enables them")
    parser.add_argument("--seed", type=int, default=int(params.get("seed", 42)), help="random seed (default: seed)")
    parser.add_argument("--output", type=Path, default=resolve_path(params["paths"]["raw_data"]),
                        help="JSONL file to write (default: paths.raw_data)")
    parser.add_argument("--params", type=Path, default=None, help="params.yaml to read (default: repository root)")
    args = parser.parse_args(argv)
    if args.num_samples < 1:
        parser.error(f"--num-samples must be >= 1, got {args.num_samples}")
    if args.add_cross_intent is None:
        args.add_cross_intent = bool(gen.get("add_cross_intent", False))
    return args


def report(rows: list[dict], intents: list[str], levels: list[str]) -> str:
    by_intent = Counter(r["intent"] for r in rows)
    by_level = Counter(r["complexity"] for r in rows)
    cross = sum(r.get("origin") == "cross_intent" for r in rows)
    distinct = len({r["text"] for r in rows}) / len(rows)
    lines = [f"{len(rows)} rows, {distinct:.1%} distinct texts, {cross} cross-intent", "per intent:"]
    lines += [f"  {i:<20} {by_intent[i]:>6}" for i in intents]
    lines += ["per complexity:"] + [f"  {lv:<20} {by_level[lv]:>6}" for lv in levels]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--params", type=Path, default=None)
    known, _ = pre.parse_known_args(argv)
    try:
        params = load_params(known.params)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args = parse_args(argv, params)
    try:
        rows = generate_samples(args.num_samples, args.seed, args.add_cross_intent, params)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with args.output.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({k: row[k] for k in ROW_KEYS}, ensure_ascii=False) + "\n")
    print(report(rows, list(params["intents"]), list(params["complexity_levels"])))
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
