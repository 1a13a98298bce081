#!/usr/bin/env python
"""`make serve-pyfunc`: MLflow's own scoring server (`mlflow models serve`) on a registered pyfunc.

    python scripts/serve_pyfunc.py                                   # models:/intent_classifier@champion on 127.0.0.1:5002
    python scripts/serve_pyfunc.py --model models:/intent_classifier/3 --port 5055
    curl -s http://127.0.0.1:5002/invocations -H 'Content-Type: application/json' \\
        -d '{"dataframe_records": [{"text": "write a haiku about autumn"}]}'

It runs in this environment (`--env-manager local`), on loopback, one worker; the tracking store
of params.yaml resolves `models:/...`. Exit codes: 0 stopped by Ctrl-C, 1 failed to start, 2 bad arguments.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pipeline import cli
from pipeline.config import PROJECT_ROOT
from pipeline.services import LOOPBACK, port_open, run_until_interrupted
from pipeline.services.mlflow_model_server import start_model_server


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--model", default=None, help="models:/<name>@<alias> or /<version> (default: the champion)")
    parser.add_argument("--port", type=int, default=5002)
    parser.add_argument("--log-file", type=Path, default=PROJECT_ROOT / "logs" / "mlflow-models-serve.log")
    args, params = cli.start(parser, argv)
    import mlflow

    from pipeline.modeling.tracking import setup_mlflow

    if port_open(args.port):
        print(f"error: port {args.port} on {LOOPBACK} is in use; pass --port", file=sys.stderr)
        return 1
    setup_mlflow(params)
    model = args.model or f"models:/{params['mlflow']['registered_model']}@champion"
    try:
        server = start_model_server(model, mlflow.get_tracking_uri(), args.log_file, args.port)
    except RuntimeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{model} served by mlflow models serve on {server.url} (POST /invocations; log {args.log_file}); Ctrl-C stops it.")
    run_until_interrupted(server)
    return 0


if __name__ == "__main__":
    sys.exit(main())
