#!/usr/bin/env python
"""Build model_store/<name>.mar for TorchServe from the MLflow champion or any model directory.

    python scripts/archive_model.py                          # champion (or paths.model_dir as local-<hash>)
    python scripts/archive_model.py --model models/intent_classifier --version 7 --mar-name intent_classifier_v7
    python scripts/archive_model.py --onnx                   # also pack the ONNX int8 export

Exit codes: 0 built, 2 a missing or broken input (named in the message), 1 anything else.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.deploy.archive import ArchiveError, ArchiveRequest, build_archive, champion_or_local


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--model", help="model directory or models:/intent_classifier/<v> (default: alias champion)")
    parser.add_argument("--version", type=cli.safe_name, help="archive version (required with --model; letters, digits, . _ -)")
    parser.add_argument("--mar-name", type=cli.safe_name, help="output file name without .mar (default: serve.model_name)")
    parser.add_argument("--model-store", type=Path, help="output directory (default: paths.model_store)")
    parser.add_argument("--onnx", action="store_true", help="pack the ONNX int8 export (implied by serve.runtime: onnx)")
    parser.add_argument("--parity-file", type=Path,
                        help="JSONL texts for the ONNX vs torch top-1 gate (default: processed test split)")
    args, params = cli.start(parser, argv)
    if bool(args.model) != bool(args.version):
        parser.error("--model and --version go together (MODEL=path VERSION=x)")
    try:
        if args.model and args.model.startswith("models:/"):
            from pipeline.deploy.registry import resolve_model_path

            version, model_dir, source = args.version, resolve_model_path(args.model, params), args.model
        elif args.model:
            version, model_dir, source = args.version, Path(args.model), args.model
        else:
            version, model_dir, source = champion_or_local(params)
        request = ArchiveRequest(
            model_dir=model_dir,
            version=str(version),
            model_name=params["serve"]["model_name"],
            mar_name=args.mar_name,
            model_store=args.model_store or resolve_path(params["paths"]["model_store"]),
            onnx=args.onnx,
            parity_file=args.parity_file or resolve_path(params["paths"]["processed_dir"]) / "test.jsonl",
        )
        print(f"Archiving {source} as {request.model_name} version {version} (runtime {params['serve']['runtime']})")
        mar = build_archive(request, params)
    except (ArchiveError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Wrote {mar} ({mar.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
