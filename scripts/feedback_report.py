#!/usr/bin/env python
"""Live accuracy from labelled feedback: rolling accuracy per model version, A/B significance test.

    make feedback FEEDBACK=feedback.jsonl                    # accuracy per version (+ A/B of the two most used)
    python scripts/feedback_report.py --feedback fb.jsonl --a 3 --b 4
    python scripts/feedback_report.py --feedback fb.jsonl \
        --model-a models/champion --model-b models/retrain   # both models re-answer the prompts: paired test

Writes monitor.output_dir/feedback_report.{json,md,html,png} (the HTML self-contained) and feedback.prom (Prometheus gauges).
Exit codes: 0 done, 2 bad input (missing file, bad rows with --strict, unknown version).
"""

from __future__ import annotations

import sys

from pipeline import cli
from pipeline.config import resolve_path

EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--feedback", required=True, help="labelled feedback JSONL (text or text_hash, intent, model_version, predicted)")
    p.add_argument("--window", type=int, default=None, help="rolling window in rows (default: monitor.feedback_window)")
    p.add_argument("--a", default=None, help="version A of the A/B test (default: the most frequent version)")
    p.add_argument("--b", default=None, help="version B (default: the second most frequent)")
    p.add_argument("--model-a", default=None, help="model dir: re-answer every feedback prompt (paired A/B)")
    p.add_argument("--model-b", default=None, help="second model dir for the paired A/B")
    p.add_argument("--out-dir", default=None, help="output directory (default: monitor.output_dir)")
    p.add_argument("--strict", action="store_true", help="fail on any bad feedback row instead of reporting it")
    args, params = cli.start(p, argv)
    if bool(args.model_a) != bool(args.model_b):
        p.error("--model-a and --model-b go together")
    cfg = params["monitor"]
    from pipeline.monitoring.feedback import (
        accuracy_by_version,
        compare_versions,
        load_feedback,
        repredict,
        write_feedback_report,
    )

    try:
        rows, rejects = load_feedback(resolve_path(args.feedback), params["intents"])
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for r in rejects:
        print(f"rejected {r['file']}:{r['line']}: {r['reason']}", file=sys.stderr)
    if rejects and args.strict:
        return EXIT_BAD_INPUT
    if not rows:
        print(f"error: no usable feedback rows in {args.feedback}", file=sys.stderr)
        return EXIT_BAD_INPUT
    ab_rows, a, b = rows, args.a, args.b
    try:
        if args.model_a:
            a, b = "A", "B"
            ab_rows = repredict(rows, {a: resolve_path(args.model_a), b: resolve_path(args.model_b)})
        accuracy = accuracy_by_version(ab_rows, args.window or int(cfg["feedback_window"]))
        by_count = sorted(accuracy, key=lambda v: -accuracy[v]["n"])
        a = a or (by_count[0] if len(by_count) > 1 else None)
        b = b or next((v for v in by_count if v != a), None)
        ab = compare_versions(ab_rows, a, b, float(cfg["ab_alpha"])) if a and b else None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT

    out_dir = resolve_path(args.out_dir or cfg["output_dir"])
    md = write_feedback_report(accuracy, ab, rejects, out_dir)
    for v, acc in accuracy.items():
        lo, hi = acc["window_ci95"]
        print(f"version {v}: {acc['n']} rows, accuracy {acc['accuracy']:.3f}; last {acc['window_n']}: "
              f"{acc['window_accuracy']:.3f} (95% CI {lo:.3f}-{hi:.3f})")
    if ab:
        print(f"A/B {ab['version_a']} vs {ab['version_b']}: {ab['method']}, p={ab['p_value']:.3g}: {ab['verdict']}")
    print(f"report: {md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
