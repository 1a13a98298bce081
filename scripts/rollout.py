#!/usr/bin/env python
"""Canary rollout of a new model version through the nginx proxy in front of TorchServe.

    make serve                                                  # TorchServe with the stable version
    make canary MAR=model_store/intent_classifier_v2.mar        # register, 5 -> 25 -> 50 -> 100 %, decide
    make rollout-status                                         # state, routing, versions, last decisions
    make canary-promote | make canary-rollback                  # operator override of the rollout in progress
    .venv/bin/python scripts/rollout.py canary --abort          # stop a rollout: weight 0, unregister new version

Only a registry version the promotion gate accepted (`make promote`) may be rolled out or promoted;
`--force REASON` is the one way round (needed with --no-registry too) and the reason is logged.

Clients call the proxy (params rollout.proxy.port) at /predictions/intent_classifier with their
TorchServe inference token; the X-Model-Version response header names the version that answered.
Run `canary` again with the same archive after an interruption: it resumes at the step it was in.

Exit codes: 0 promoted / done, 1 the new version was rolled back or aborted, 2 bad input (archive,
params), 3 cannot act now (no rollout in progress, another rollout command running, server down),
4 crashed (unexpected error or lost connection: traffic back on the stable version, state saved),
128 + signal number when stopped by Ctrl-C, SIGTERM or SIGHUP (same: traffic on stable, rerun to resume).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from pipeline import cli
from pipeline.deploy.rollout import (
    GateCheck,
    Rollout,
    RolloutBusy,
    RolloutError,
    RolloutInterrupted,
    ensure_proxy,
    move_champion_alias,
    signals_raise,
)
from pipeline.services import nginx, torchserve


def build_parser():
    """The global options and one subcommand per operator action."""
    parser = cli.parser(__doc__)
    parser.add_argument("--ts-run-dir", type=Path, default=None, help="run dir of the TorchServe `make serve` started")
    parser.add_argument("--proxy-prefix", type=Path, default=None, help="prefix dir of the canary nginx (default run/nginx)")
    sub = parser.add_subparsers(dest="command", required=True)
    canary = sub.add_parser("canary", help="start (or resume) a canary rollout of --mar")
    canary.add_argument("--mar", type=Path, help="the new version's archive, inside the model store")
    canary.add_argument("--abort", action="store_true", help="abort the rollout in progress instead (weight 0, unregister)")
    canary.add_argument("--hold-seconds", type=float, default=None, help="override rollout.hold_seconds")
    canary.add_argument("--steps", default=None, help="override rollout.steps, e.g. 10,100")
    promote = sub.add_parser("promote", help="promote the version in canary now (skips the remaining steps)")
    for command in (canary, promote):
        command.add_argument("--no-registry", action="store_true",
                             help="do not read the gate decision nor move the MLflow champion alias (needs --force)")
        command.add_argument("--force", metavar="REASON", default=None,
                             help="roll out / promote although the promotion gate did not accept the version (logged)")
    sub.add_parser("rollback", help="roll the version in canary back now")
    sub.add_parser("status", help="print the rollout state, routing, versions and last decisions as JSON")
    sub.add_parser("proxy-stop", help="stop the canary nginx")
    return parser


def check_args(parser, args, params: dict) -> None:
    """Refuse inconsistent flags before anything is touched; apply the canary's overrides to params."""
    if args.command == "canary" and not args.abort and args.mar is None:
        parser.error("canary needs --mar PATH (or --abort)")
    if getattr(args, "force", None) is not None and not args.force.strip():
        parser.error("--force needs a reason, e.g. --force 'hotfix for incident 42, gate rerun tomorrow'")
    if getattr(args, "no_registry", False) and not args.force:
        parser.error("--no-registry cannot check the promotion gate: add --force REASON")
    if args.command == "canary":
        if args.hold_seconds is not None:
            params["rollout"]["hold_seconds"] = args.hold_seconds
        if args.steps:
            try:
                params["rollout"]["steps"] = [float(s) for s in args.steps.split(",")]
            except ValueError:
                parser.error(f"--steps {args.steps!r}: comma-separated percentages, e.g. 10,100")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, params = cli.start(parser, argv)
    check_args(parser, args, params)
    proxy_prefix = args.proxy_prefix or nginx.DEFAULT_PREFIX
    if args.command == "proxy-stop":
        try:
            nginx.NginxProxy.attach(proxy_prefix).stop()
        except (FileNotFoundError, RuntimeError) as exc:
            print(f"no canary proxy to stop: {exc}")
        return 0
    try:
        ts = torchserve.TorchServe.attach(args.ts_run_dir or torchserve.DEFAULT_RUN_DIR)
        if args.command == "status":  # report, never start anything
            try:
                proxy = nginx.NginxProxy.attach(proxy_prefix)
            except (FileNotFoundError, RuntimeError):
                proxy = None
        else:
            proxy = ensure_proxy(params, ts, proxy_prefix)
    except (FileNotFoundError, RuntimeError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    use_registry = not getattr(args, "no_registry", False)
    forced = getattr(args, "force", None)
    rollout = Rollout(params, ts, proxy, gate=GateCheck.forced(forced) if forced else GateCheck(params),
                      move_alias=move_champion_alias(params, forced) if use_registry else None)
    resume_hint = ("the rollout state is saved and unversioned traffic is on the stable version (unless a "
                   "promotion was under way); rerun the same command to resume, or `scripts/rollout.py canary --abort`")
    try:
        with signals_raise():
            if args.command == "status":
                print(json.dumps(rollout.status(), indent=2, default=str))
                return 0
            if args.command == "canary" and args.abort:
                state = rollout.rollback_now(abort=True)
            elif args.command == "canary":
                state = rollout.start(args.mar)
            elif args.command == "promote":
                state = rollout.promote_now()
            else:
                state = rollout.rollback_now()
    except (KeyboardInterrupt, RolloutInterrupted) as exc:
        print(f"interrupted ({exc or 'SIGINT'}): {resume_hint}", file=sys.stderr)
        return 128 + getattr(exc, "signum", 2)
    except (FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (RolloutBusy, RolloutError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except Exception as exc:  # noqa: BLE001 - any crash: say what happened and how to continue
        print(f"crashed ({type(exc).__name__}: {exc}): {resume_hint}", file=sys.stderr)
        return 4
    print(f"{state.model}: v{state.canary} {state.status} ({state.reason}); clients: {proxy.url}/predictions/{state.model}")
    print(f"decisions: {rollout.cfg.log_path}")
    return 0 if state.status == "promoted" else 1


if __name__ == "__main__":
    sys.exit(main())
