#!/usr/bin/env python
"""TorchServe, its token renewer, Redis and the canary nginx under supervisord, restarted whenever one exits.

    make supervise          # render run/supervise/supervisord.conf from params.yaml, start, wait until serving
    make supervise-status   # supervisorctl status
    make supervise-stop     # stop the four programs, then supervisord

Ports: TorchServe 8080-8082 (config.properties), Redis from serve.redis_url, the proxy from
rollout.proxy.port. Logs in run/supervise/logs/. Stop `make serve`/`make redis` first (same ports).
Operators may also use `.venv/bin/supervisorctl -c run/supervise/supervisord.conf` directly.

Exit codes: 0 done, 2 bad input (params, no model archive), 3 could not start / not running.
"""

from __future__ import annotations

import sys

from pipeline import cli
from pipeline.deploy.rollout import mar_manifest
from pipeline.services import supervision


def main(argv: list[str] | None = None) -> int:
    parser = cli.parser(__doc__)
    parser.add_argument("command", choices=("start", "stop", "status"))
    args, params = cli.start(parser, argv)
    stack = supervision.SupervisedStack.from_params(params)
    if args.command == "stop":
        if not supervision.stop(stack):
            print("supervisord is not running")
        return 0
    if args.command == "status":
        result = supervision.supervisorctl(stack, "status")
        print(result.stdout or result.stderr, end="")
        return 0 if supervision.all_running(stack) else 3
    mar = stack.model_store / stack.models[stack.model_name]
    try:
        _, version = mar_manifest(mar)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        supervision.start(stack, stable_version=version)
    except (RuntimeError, TimeoutError) as exc:
        print(f"error: {exc}\nlogs: {stack.run_dir / 'logs'}", file=sys.stderr)
        return 3
    print(supervision.supervisorctl(stack, "status").stdout, end="")
    print(f"config: {stack.conf_path}; stop with `make supervise-stop`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
