#!/usr/bin/env python
"""Measure the drift detector: false-positive rate on same-distribution streams, shift detection.

    make drift-eval                                     # 200 seeds, windows of 500, default model
    python scripts/drift_simulation.py --model-dir models/intent_classifier --seeds 200 --window 500

The same-distribution pool is fresh generator output (another seed) unless --pool gives a
JSONL file of rows. Writes monitor.output_dir/drift_simulation.json and prints a table.
Exit codes: 0 measured, 2 bad input.
"""

from __future__ import annotations

import json
import sys

from pipeline import cli
from pipeline.config import resolve_path

EXIT_BAD_INPUT = 2


def _texts(path) -> list[str]:
    return [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--model-dir", default=None, help="model (default: paths.model_dir)")
    p.add_argument("--reference-data", default=None, help="reference rows (default: monitor.reference_data)")
    p.add_argument("--pool", default=None, help="JSONL rows of the same distribution (default: generate --pool-size rows)")
    p.add_argument("--pool-size", type=int, default=3000, help="rows generated for the same-distribution pool")
    p.add_argument("--pool-seed", type=int, default=12345, help="generator seed of the pool (not the training seed)")
    p.add_argument("--window", type=int, default=500, help="logged predictions per compared window")
    p.add_argument("--seeds", type=int, default=200, help="same-distribution windows (false-positive rate)")
    p.add_argument("--shift-seeds", type=int, default=50, help="windows per shift scenario (detection rate)")
    p.add_argument("--realistic", default="eval_sets/realistic_test.jsonl", help="hand-written prompts as one more shift ('' = skip)")
    p.add_argument("--out", default=None, help="JSON output (default: monitor.output_dir/drift_simulation.json)")
    args, params = cli.start(p, argv)
    cfg = params["monitor"]
    model_dir = resolve_path(args.model_dir or params["paths"]["model_dir"])
    reference_data = resolve_path(args.reference_data or cfg["reference_data"])
    for what, path in (("model directory", model_dir), ("reference data", reference_data)):
        if not path.exists():
            print(f"error: {what} not found: {path}", file=sys.stderr)
            return EXIT_BAD_INPUT
    import torch

    from pipeline.modeling.predict import Predictor
    from pipeline.monitoring.drift import Thresholds, build_reference
    from pipeline.monitoring.drift_simulation import simulate

    torch.set_num_threads(int(params["train"].get("num_threads", 2)))
    if args.pool:
        pool_texts = _texts(resolve_path(args.pool))
    else:
        from pipeline.datagen.generate import generate_samples

        pool_texts = [r["text"] for r in generate_samples(args.pool_size, args.pool_seed, params=params)]
    realistic = _texts(resolve_path(args.realistic)) if args.realistic else None
    predictor = Predictor(model_dir)
    reference = build_reference(reference_data, model_dir, params, int(cfg["reference_max_rows"]), params.get("seed", 0))
    try:
        results = simulate(reference, pool_texts, predictor.predict, params["intents"], Thresholds.from_params(params),
                           window=args.window, seeds=args.seeds, shift_seeds=args.shift_seeds, realistic_texts=realistic)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    results["command"] = "python scripts/drift_simulation.py " + " ".join(argv if argv is not None else sys.argv[1:])
    results["model_dir"] = str(model_dir)
    out = resolve_path(args.out or f"{cfg['output_dir']}/drift_simulation.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2), encoding="utf-8")
    same = results["same_distribution"]
    print(f"reference {results['reference_rows']} rows, pool {results['pool_rows']} rows, window {args.window}")
    print(f"same distribution, {same['seeds']} seeds: any alarm {same['rate_any']:.3f} "
          f"(data {same['rate_data']:.3f}, output {same['rate_output']:.3f}); columns {same['column_rates']}")
    for name, r in results["shifts"].items():
        print(f"shift {name:13s} {r['seeds']} seeds, window {r['window']}: detected {r['rate_any']:.2f} "
              f"(data {r['rate_data']:.2f}, output {r['rate_output']:.2f}, intents {r['rate_intent']:.2f})")
    print(f"-> {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
