#!/usr/bin/env python
"""Generate labelled synthetic prompts (JSONL rows {"text", "intent", "complexity"}).

    python scripts/generate_sample_data.py                       # params.yaml defaults
    python scripts/generate_sample_data.py --num-samples 10000 --add-cross-intent --seed 7 --output data/raw/big.jsonl

Defaults come from params.yaml (generate.num_samples, seed, paths.raw_data). Prints the counts
per intent and per complexity level, the share of distinct texts and the cross-intent and
foreign-language (generate.foreign_share) row counts. Exit code 0 on success,
1 on a configuration error (e.g. an intent without a template bank), 2 on bad arguments.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.datagen.generate import write_raw_data


def report(rows: list[dict], intents: list[str], levels: list[str]) -> str:
    by_intent = Counter(r["intent"] for r in rows)
    by_level = Counter(r["complexity"] for r in rows)
    cross = sum(r.get("origin") == "cross_intent" for r in rows)
    foreign = sum(r.get("origin") == "foreign" for r in rows)
    distinct = len({r["text"] for r in rows}) / len(rows)
    lines = [f"{len(rows)} rows, {distinct:.1%} distinct texts, {cross} cross-intent, {foreign} in another language", "per intent:"]
    lines += [f"  {i:<20} {by_intent[i]:>6}" for i in intents]
    lines += ["per complexity:"] + [f"  {lv:<20} {by_level[lv]:>6}" for lv in levels]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--num-samples", type=int, default=None,
                   help="rows to write, balanced over the intents (default: generate.num_samples)")
    p.add_argument("--add-cross-intent", action="store_true", default=None,
                   help="include cross-intent prompts (share: generate.cross_intent_ratio); "
                        "default: generate.add_cross_intent")
    p.add_argument("--no-cross-intent", dest="add_cross_intent", action="store_false",
                   help="leave cross-intent prompts out even if params.yaml enables them")
    p.add_argument("--seed", type=int, default=None, help="random seed (default: seed)")
    p.add_argument("--output", type=Path, default=None, help="JSONL file to write (default: paths.raw_data)")
    args, params = cli.start(p, argv)
    if args.num_samples is not None and args.num_samples < 1:
        p.error(f"--num-samples must be >= 1, got {args.num_samples}")
    output = args.output or resolve_path(params["paths"]["raw_data"])
    try:
        rows = write_raw_data(params, output, args.num_samples, args.seed, args.add_cross_intent)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(report(rows, list(params["intents"]), list(params["complexity_levels"])))
    print(f"wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
