#!/usr/bin/env python
"""Benchmark the served archive: latency, throughput vs its raw in-process ceiling and a naive peer.

    python scripts/benchmark.py                                   # model_store/intent_classifier.mar -> bench/results.json
    python scripts/benchmark.py --batch-size 4 --max-batch-delay 2 --workers 2 --output bench/tuning/b4_d2_w2.json
    python scripts/benchmark.py --plot bench/results.json        # only redraw bench/results.png from a results file

Next to the JSON it writes a PNG of the same name (latency percentiles, throughput per run).

Registration overrides (--batch-size, --max-batch-delay, --workers) are for tuning; without them
the model is registered as `make serve` does: params.yaml serve.max_batch_delay_ms, and the
archive's serve_config/model-config.yaml for the rest. Not a test: it reports figures
and whether the issue's targets are met. Exit codes: 0 done, 2 missing input, 1 failure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.deploy.bench_plot import plot_bench
from pipeline.deploy.benchmark import REPEATS, WARMUP_ROUNDS, run_benchmark


def table(result: dict) -> str:
    s = result["served"]
    concurrency = next(k for k in s if k.startswith("throughput_c") and k[len("throughput_c"):].isdigit())
    tput, python_tput = s[concurrency], s[f"{concurrency}_python_client"]
    rows = [
        ("served latency c=1 (p50 / p95 / p99 ms)",
         f"{s['latency_c1']['p50_ms']} / {s['latency_c1']['p95_ms']} / {s['latency_c1']['p99_ms']}"),
        (f"served throughput c={concurrency[len('throughput_c'):]}, wrk client (prompts/s)", f"{tput['prompts_per_s']}"),
        ("the same, Python client (prompts/s; p50 / p95 ms)",
         f"{python_tput['prompts_per_s']}; {python_tput['p50_ms']} / {python_tput['p95_ms']}"),
        ("cache hit latency c=1 (p50 / p95 ms)", f"{s['cache_hit_c1']['p50_ms']} / {s['cache_hit_c1']['p95_ms']}"),
        (f"ceiling: best in-process layout ({result['raw_in_process']['runtime']}, "
         f"{result['raw_in_process']['best_layout']}; prompts/s)", f"{result['raw_in_process']['prompts_per_s']}"),
        ("naive handler: transformers pipeline, batch 1 (prompts/s)", f"{result['naive_pipeline']['prompts_per_s']}"),
        ("served / ceiling, served / naive", f"{result['ratios']['served_over_ceiling']}x, {result['ratios']['served_over_naive']}x"),
        ("requests per forward at c=16 (histogram)", f"{tput.get('requests_per_forward_histogram')}"),
        ("c=1 breakdown (ms)", f"{s.get('latency_c1_breakdown')}"),
        ("in process, one row (ms)", f"{result.get('raw_in_process_c1')}"),
        ("archive (MB)", f"{result.get('archive_mb')}"),
    ]
    if "peer" in s:
        peer = s["peer"]
        rows += [
            ("FastAPI + ORT peer, c=1 (p50 / p95 ms)", f"{peer['latency_c1']['p50_ms']} / {peer['latency_c1']['p95_ms']}"),
            (f"peer c={concurrency[len('throughput_c'):]}, Python client (prompts/s)",
             f"{peer[f'{concurrency}_python_client']['prompts_per_s']}"),
            ("served / peer, pair by pair (c=1 p50; c=1 p95; c=16 prompts/s)",
             "; ".join(str(v) for v in peer["pairs_served_over_peer"].values())),
        ]
    return "\n".join(["| measure | value |", "|---|---|", *(f"| {a} | {b} |" for a, b in rows)])


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--mar", type=Path, help="archive (default: <paths.model_store>/<serve.model_name>.mar)")
    parser.add_argument("--output", type=Path, default=Path("bench/results.json"))
    parser.add_argument("--prompts", type=int, default=1200, help="distinct prompts for the throughput runs")
    parser.add_argument("--latency-prompts", type=int, default=300, help="prompts for the c=1 latency runs")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--naive-prompts", type=int, default=200)
    parser.add_argument("--warmup-rounds", type=int, default=WARMUP_ROUNDS,
                        help="times every prompt is sent before measuring (JIT-warm TorchServe frontend)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help="runs of each figure (c=1, c=16, cache hits, ceiling); the median run is reported")
    parser.add_argument("--batch-size", type=int, help="override the archive's batchSize")
    parser.add_argument("--max-batch-delay", type=int, help="override the archive's maxBatchDelay (ms)")
    parser.add_argument("--workers", type=int, help="override the archive's worker count")
    parser.add_argument("--no-peer", action="store_true", help="skip the FastAPI + ONNX Runtime peer")
    parser.add_argument("--plot", type=Path, metavar="RESULTS_JSON", help="only draw the PNG of an existing results file")
    args, params = cli.start(parser, argv)
    if args.plot is not None:
        if not args.plot.is_file():
            print(f"error: {args.plot} not found", file=sys.stderr)
            return 2
        print(f"wrote {plot_bench(json.loads(args.plot.read_text(encoding='utf-8')), args.plot.with_suffix('.png'))}")
        return 0
    mar = args.mar or resolve_path(params["paths"]["model_store"]) / f"{params['serve']['model_name']}.mar"
    registration = {key: value for key, value in (("batch_size", args.batch_size), ("max_batch_delay", args.max_batch_delay),
                                                  ("initial_workers", args.workers)) if value is not None}
    try:
        result = run_benchmark(params, mar, n_prompts=args.prompts, latency_n=args.latency_prompts,
                               concurrency=args.concurrency, naive_n=args.naive_prompts, registration=registration,
                               warmup_rounds=args.warmup_rounds, repeats=args.repeats, peer=not args.no_peer,
                               plot=args.output.resolve().with_name("saturation.png"))
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(table(result))
    print(f"targets: {result['targets']}")
    print(f"machine: {result['machine']}")
    print(f"wrote {args.output} and {plot_bench(result, args.output.with_suffix('.png'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
