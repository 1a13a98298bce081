#!/usr/bin/env python
"""Run the served model: TorchServe (and its Redis cache) in the background on 127.0.0.1.

    python scripts/serve.py start      # TorchServe with model_store/intent_classifier.mar, waits until it answers
    python scripts/serve.py token      # tokens as shell exports + ready curl lines (eval "$(make -s token)")
    python scripts/serve.py redis      # redis-server for the result cache
    python scripts/serve.py stop       # stops both

Everything TorchServe writes (config, key_file.json with the tokens, logs, snapshots) stays in
run/torchserve/ (git-ignored). A token renewer runs next to TorchServe and replaces each token
serve.token_renewal_margin_min before it expires: read tokens from key_file.json (pipeline/client.py
does) rather than keeping the ones `token` prints. Exit codes: 0 ok, 1 failed to start/stop, 2 nothing to act on.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urlparse

from pipeline import cli
from pipeline.config import PROJECT_ROOT, resolve_path
from pipeline.services import port_open, stop_pidfile
from pipeline.services.redis import DEFAULT_RUN_DIR as REDIS_RUN_DIR
from pipeline.services.redis import PASSWORD_FILE as REDIS_PASSWORD_FILE
from pipeline.services.redis import PID_FILE as REDIS_PID_FILE
from pipeline.services.redis import RedisServer
from pipeline.services.torchserve import (
    DEFAULT_RUN_DIR,
    PID_FILE,
    TorchServe,
    read_keys,
    read_properties,
    serve_registration,
    stop_background,
)

EXAMPLE = '{"text": "Write a Python function that checks whether a string is a palindrome"}'


def _port(address: str) -> int:
    return int(urlparse(address).port)


def running_server(run_dir: Path) -> TorchServe | None:
    """The background TorchServe recorded in run_dir, if its process is still alive."""
    pid_file = run_dir / PID_FILE
    try:
        os.kill(int(pid_file.read_text().strip()), 0)
        return TorchServe.attach(run_dir)
    except (OSError, ValueError, FileNotFoundError):
        return None


def how_to_call(ts: TorchServe, model: str) -> str:
    keys = read_keys(ts.run_dir)
    base = f"http://127.0.0.1:{ts.inference_port}"
    mgmt = f"http://127.0.0.1:{ts.management_port}"
    return "\n".join([
        f"export TS_INFERENCE_TOKEN={keys['inference']}",
        f"export TS_MANAGEMENT_TOKEN={keys['management']}",
        "# then, for example:",
        f"# curl -s -H \"Authorization: Bearer $TS_INFERENCE_TOKEN\" -H 'Content-Type: application/json' "
        f"-d '{EXAMPLE}' {base}/predictions/{model}",
        f"# curl -s -H \"Authorization: Bearer $TS_INFERENCE_TOKEN\" -H 'Content-Type: application/json' "
        f"-d '{EXAMPLE}' {base}/explanations/{model}",
        f"# curl -s -H \"Authorization: Bearer $TS_MANAGEMENT_TOKEN\" {mgmt}/models/{model}",
        f"# curl -s http://127.0.0.1:{ts.metrics_port}/metrics | grep intent_",
    ])


def cmd_start(args, params) -> int:
    model = params["serve"]["model_name"]
    current = running_server(args.run_dir)
    if current is not None:
        print(f"TorchServe is already running (run dir {args.run_dir}); `make stop` first to restart it.")
        print(how_to_call(current, model))
        return 0
    props = read_properties(Path(args.config_template))
    store = resolve_path(params["paths"]["model_store"])
    mar = args.mar or f"{model}.mar"
    if not (store / mar).is_file():
        print(f"error: {store / mar} not found: run `make archive`", file=sys.stderr)
        return 2
    env = {"INTENT_REDIS_URL": params["serve"]["redis_url"],
           "INTENT_REDIS_PASSWORD_FILE": str((REDIS_RUN_DIR / REDIS_PASSWORD_FILE).resolve())}
    log_path = params.get("monitor", {}).get("prediction_log", {}).get("path")
    if log_path:  # the worker runs in a temp dir: give the prediction log an absolute path
        env["BETTERPROMPTS_PREDICTION_LOG"] = str(resolve_path(log_path))
    ts = TorchServe(
        model_store=store,
        run_dir=args.run_dir,
        models={model: mar},
        registration=serve_registration(params),
        inference_port=args.inference_port or _port(props["inference_address"]),
        management_port=args.management_port or _port(props["management_address"]),
        metrics_port=args.metrics_port or _port(props["metrics_address"]),
        env=env,
        token_renewal_margin_s=float(params["serve"]["token_renewal_margin_min"]) * 60,
    )
    print(f"Starting TorchServe with {store / mar} (logs: {ts.run_dir / 'torchserve.log'}) ...")
    try:
        ts.start(timeout=args.timeout, restore=not args.fresh)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    ts.save_state()
    version = ts.default_version(model)
    print(f"TorchServe is serving {model} version {version} on 127.0.0.1 "
          f"(inference {ts.inference_port}, management {ts.management_port}, metrics {ts.metrics_port}).")
    print(how_to_call(ts, model))
    return 0


def cmd_token(args, params) -> int:
    current = running_server(args.run_dir)
    if current is None:
        print("TorchServe is not running: `make serve`", file=sys.stderr)
        return 2
    print(how_to_call(current, params["serve"]["model_name"]))
    return 0


def cmd_redis(args, params) -> int:
    port = urlparse(params["serve"]["redis_url"]).port or 6379
    if port_open(port):
        print(f"Redis is already listening on 127.0.0.1:{port}.")
        return 0
    try:
        server = RedisServer(port=port, run_dir=REDIS_RUN_DIR).start()
    except (FileNotFoundError, RuntimeError) as exc:
        if args.optional:
            print(f"note: no result cache ({exc}); serving works without it.")
            return 0
        print(f"error: {exc}", file=sys.stderr)
        return 1
    (REDIS_RUN_DIR / REDIS_PID_FILE).write_text(f"{server.process.pid}\n")
    print(f"Redis cache on {server.url} (TTL {params['serve']['cache_ttl_seconds']} s, no persistence).")
    return 0


def cmd_stop(args, params) -> int:
    stopped_ts = stop_background(args.run_dir)
    stopped_redis = stop_pidfile(REDIS_RUN_DIR / REDIS_PID_FILE)
    print(f"TorchServe {'stopped' if stopped_ts else 'was not running'}; "
          f"Redis {'stopped' if stopped_redis else 'was not started by make redis'}.")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("--run-dir", type=Path, default=DEFAULT_RUN_DIR, help="TorchServe's working directory")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start TorchServe in the background and wait until the model answers")
    start.add_argument("--mar", help="archive in the model store (default: <serve.model_name>.mar)")
    start.add_argument("--inference-port", type=int, help="default: config.properties")
    start.add_argument("--management-port", type=int, help="default: config.properties")
    start.add_argument("--metrics-port", type=int, help="default: config.properties")
    start.add_argument("--config-template", default=str(PROJECT_ROOT / "config.properties"))
    start.add_argument("--fresh", action="store_true", help="ignore the last snapshot (registered versions)")
    start.add_argument("--timeout", type=float, default=180.0, help="seconds to wait for the model")
    sub.add_parser("token", help="print the tokens and ready curl lines")
    redis = sub.add_parser("redis", help="start redis-server on the port of serve.redis_url")
    redis.add_argument("--optional", action="store_true", help="exit 0 with a note if redis-server is missing")
    sub.add_parser("stop", help="stop TorchServe and the Redis started here")
    args, params = cli.start(parser, argv)
    return {"start": cmd_start, "token": cmd_token, "redis": cmd_redis, "stop": cmd_stop}[args.command](args, params)


if __name__ == "__main__":
    sys.exit(main())
