#!/usr/bin/env python
"""Score the data generator: fit a cheap classifier on generated rows, report accuracy on realistic_dev.

    python scripts/eval_generator.py                                  # TF-IDF + LR, seconds
    python scripts/eval_generator.py --method minilm-frozen --num-samples 4000   # frozen MiniLM + LR, minutes
    python scripts/eval_generator.py --show-errors                    # print the misclassified dev prompts

Only `paths.realistic_dev` is read (never the held-out realistic_test). Exit codes: 0 done,
1 bad config or data, 2 bad arguments.
"""

from __future__ import annotations

import sys
import time

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.data.ingest import load_labelled_file
from pipeline.datagen.generate import generate_samples
from pipeline.datagen.generator_eval import METHODS, proxy_accuracy


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--method", choices=METHODS, default="tfidf", help="proxy classifier (default: tfidf)")
    parser.add_argument("--num-samples", type=int, default=None, help="generated rows (default: generate.num_samples)")
    parser.add_argument("--seed", type=int, default=None, help="generator seed (default: params seed)")
    parser.add_argument("--no-cross-intent", action="store_true", help="leave cross-intent rows out")
    parser.add_argument("--show-errors", action="store_true", help="print every misclassified dev prompt")
    args, params = cli.start(parser, argv)
    try:
        dev, _ = load_labelled_file(resolve_path(params["paths"]["realistic_dev"]), params, strict=True)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    n = args.num_samples or int(params["generate"]["num_samples"])
    seed = params["seed"] if args.seed is None else args.seed
    start = time.perf_counter()
    rows = generate_samples(n, seed, add_cross_intent=not args.no_cross_intent, params=params)
    result = proxy_accuracy(rows, dev, args.method)
    print(f"{args.method}: trained on {n} generated rows (seed {seed}) -> realistic_dev accuracy "
          f"{result['accuracy']:.3f} on {len(dev)} prompts ({time.perf_counter() - start:.0f} s)")
    for (gold, pred), count in result["confusions"]:
        print(f"  {gold} -> {pred}: {count}")
    if args.show_errors:
        for e in result["errors"]:
            print(f"[{e['intent']} -> {e['predicted']}] {e['text'][:200]!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
