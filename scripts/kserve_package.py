#!/usr/bin/env python
"""Lay out a built .mar the way KServe's TorchServe runtime loads it, ready to upload to S3.

    make kserve-package                                         # model_store/intent_classifier.mar
    make kserve-package MAR=model_store/intent_classifier_v2.mar

Writes <rollout.kserve.package_dir>/<model>/v<version>/config/config.properties and
.../model-store/<model>.mar, and prints the upload command and the storageUri to put in
serve_config/kserve/inferenceservice*.yaml. Exit codes: 0 done, 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import resolve_path
from pipeline.deploy.kserve import build_package
from pipeline.deploy.rollout import mar_manifest


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--mar", type=Path, required=True, help="the built archive (make archive)")
    parser.add_argument("--out", type=Path, default=None, help="override rollout.kserve.package_dir")
    args, params = cli.start(parser, argv)
    try:
        cfg = params["rollout"]["kserve"]
        target = build_package(args.mar, args.out or resolve_path(cfg["package_dir"]),
                               max_batch_delay_ms=params["serve"]["max_batch_delay_ms"])
        _, version = mar_manifest(args.mar)
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    uri = f"{cfg['storage_uri'].rstrip('/')}/v{version}"
    for path in sorted(p for p in target.rglob("*") if p.is_file()):
        print(path)
    print(f"upload:     aws s3 cp --recursive {target} {uri}")
    print(f"storageUri: {uri}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
