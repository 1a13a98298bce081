#!/usr/bin/env python
"""Add a new intent: grow the label list and the intent head, fine-tune from the champion, check old intents.

    make add-intent NAME=email_writing DATA=email_prompts.csv          # params copy in the run dir
    python scripts/add_intent.py --name email_writing --data rows.jsonl --write-params   # edit params.yaml too

Exit codes: 0 done and old intents within the F1 limit, 1 done but an old intent dropped more
than monitor.add_intent.max_old_f1_drop, 2 bad input.
"""

from __future__ import annotations

import sys

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.data.ingest import DataValidationError
from pipeline.monitoring.add_intent import check_intent_name, run_add_intent
from pipeline.monitoring.retrain import new_run_dir

EXIT_OLD_INTENTS_DROPPED = 1
EXIT_BAD_INPUT = 2


def main(argv: list[str] | None = None) -> int:
    p = cli.parser(__doc__)
    p.add_argument("--name", required=True, help="the new intent's name (lower_snake_case)")
    p.add_argument("--data", required=True, help="labelled rows of the new intent (.csv/.jsonl/.json; may hold old intents too)")
    p.add_argument("--definition", default=None, help="labelling rule of the new intent (params intent_definitions)")
    p.add_argument("--champion", default=None, help="champion model dir or registry alias (default: alias 'champion')")
    p.add_argument("--out-dir", default=None, help="run directory (default: monitor.retrain.output_dir/add_<name>_<time>)")
    p.add_argument("--write-params", action="store_true", help="also add the intent to the params file itself")
    p.add_argument("--no-mlflow", action="store_true", help="do not log the fine-tuning run to MLflow")
    args, params = cli.start(p, argv)
    try:
        check_intent_name(args.name)  # it names the run directory
    except ValueError as exc:
        p.error(f"--name: {exc}")
    out_dir = resolve_path(args.out_dir) if args.out_dir else new_run_dir(params, f"add_{args.name}_")
    try:
        report = run_add_intent(params, args.name, resolve_path(args.data), out_dir, definition=args.definition,
                                champion=args.champion, params_file=args.params if args.write_params else None,
                                log_to_mlflow=not args.no_mlflow)
    except (DataValidationError, ValueError, FileNotFoundError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    old = report["old_intents"]
    print(f"new intent {args.name}: {report['new_intent_rows']} rows per split, test F1 {report['new_intent_f1']:.3f}")
    print(f"old intents on the frozen test split: weighted F1 {old['champion']['f1_weighted']:.4f} -> "
          f"{old['new_model']['f1_weighted']:.4f}; largest per-intent drop {old['worst_drop']:+.4f} ({old['worst']}), "
          f"limit {old['max_allowed_drop']:.2f}; {old['predicted_as_new_intent']} of {old['champion']['n']} rows "
          f"now predicted {args.name}")
    real = report["old_intents_realistic"]
    if real:
        print(f"old intents on the hand-written realistic test set ({real['champion']['n']} rows, reported only): "
              f"accuracy {real['champion']['accuracy']:.4f} -> {real['new_model']['accuracy']:.4f}, weighted F1 "
              f"{real['champion']['f1_weighted']:.4f} -> {real['new_model']['f1_weighted']:.4f}; largest per-intent "
              f"drop {real['worst_drop']:+.4f} ({real['worst']}); {real['predicted_as_new_intent']} rows now "
              f"predicted {args.name}")
    print(f"model: {report['model_dir']}\nparams for this label set: {report['params_copy']}"
          + (f"\nupdated: {report['params_file_updated']}" if report["params_file_updated"] else
             "\n(params.yaml unchanged: rerun with --write-params, or copy the intent from the params copy)"))
    return 0 if old["within_limit"] else EXIT_OLD_INTENTS_DROPPED


if __name__ == "__main__":
    sys.exit(main())
