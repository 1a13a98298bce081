#!/usr/bin/env python
"""MLflow model registry for intent_classifier: register a model, gate/promote it, resolve an alias.

    python scripts/register_model.py register                         # paths.model_dir -> new version, then the gate
    python scripts/register_model.py register --model-dir hpo_results/intent_classifier_hpo/trial_004
    python scripts/register_model.py register --run-id 0123abcd...    # a training run's logged model directory
    python scripts/register_model.py promote                          # gate @challenger vs @champion, move champion if it wins
    python scripts/register_model.py promote --version 3 --dry-run
    python scripts/register_model.py resolve --alias champion         # download; print version and local directory
    python scripts/register_model.py list

Exit codes: 0 done (register: registered, whatever the gate said; promote: promoted), 1 error,
2 bad arguments, 3 promote: the gate refused the candidate.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from pipeline import cli
from pipeline.config import resolve_path

REFUSED = 3


def build_parser() -> argparse.ArgumentParser:
    parser = cli.parser(__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    reg = sub.add_parser("register", help="register a model directory or a run's model as a new version")
    source = reg.add_mutually_exclusive_group()
    source.add_argument("--model-dir", help="model directory (default: params paths.model_dir)")
    source.add_argument("--run-id", help="MLflow run whose artefacts hold the model directory (registry.artifact_path)")
    reg.add_argument("--description", default=None)
    reg.add_argument("--no-gate", action="store_true", help="only register (alias challenger); do not run the promotion gate")

    pro = sub.add_parser("promote", help="promotion gate against the champion on the frozen test split")
    pro.add_argument("--version", type=cli.safe_name, default=None, help="version number or alias (default: challenger)")
    pro.add_argument("--dry-run", action="store_true", help="decide and log, but move no alias")

    res = sub.add_parser("resolve", help="download a version by alias and print (version, directory)")
    res.add_argument("--alias", default="champion")

    sub.add_parser("list", help="versions with aliases, headline metrics and gate decisions")
    return parser


def print_decision(decision) -> None:
    print(json.dumps(asdict(decision), indent=2))
    verdict = "PROMOTED" if decision.accepted and not decision.dry_run else ("would promote" if decision.accepted else "REFUSED")
    print(f"{verdict}: v{decision.candidate_version} vs champion v{decision.champion_version}: {decision.reason}")


def list_versions(params: dict) -> None:
    from mlflow import MlflowClient

    from pipeline.modeling.tracking import setup_mlflow

    setup_mlflow(params)
    name = params["mlflow"]["registered_model"]
    client = MlflowClient()
    versions = client.search_model_versions(f"name = '{name}'")
    if not versions:
        print(f"no versions of {name} registered yet")
        return
    aliases: dict[str, list[str]] = {}
    for alias, version in client.get_registered_model(name).aliases.items():
        aliases.setdefault(str(version), []).append(alias)
    for mv in sorted(versions, key=lambda v: int(v.version)):
        f1 = mv.tags.get("metric.test.weighted_f1") or mv.tags.get("metric.test_weighted_f1", "?")
        print(f"v{mv.version:>3}  aliases={','.join(aliases.get(str(mv.version), [])) or '-':<28} test_f1={f1:<9} "
              f"gate={mv.tags.get('promotion.decision', '-'):<9} registered={mv.tags.get('registered_at', '?')}")


def main(argv: list[str] | None = None) -> int:
    args, params = cli.start(build_parser(), argv)
    from pipeline.deploy import registry

    try:
        if args.command == "register":
            source = args.run_id or args.model_dir or resolve_path(params["paths"]["model_dir"])
            mv = registry.register_model(source, params, description=args.description)
            print(f"registered {mv.name} version {mv.version} (run {mv.run_id}, aliases {mv.aliases}) from {source}")
            if not args.no_gate:
                print_decision(registry.promote(mv.version, params))
            return 0
        if args.command == "promote":
            decision = registry.promote(args.version or registry.CHALLENGER, params, dry_run=args.dry_run)
            print_decision(decision)
            return 0 if decision.accepted else REFUSED
        if args.command == "resolve":
            version, path = registry.resolve_alias(args.alias, params)
            print(json.dumps({"alias": args.alias, "version": version, "model_dir": str(path)}))
            return 0
        list_versions(params)
        return 0
    except (FileNotFoundError, ValueError, KeyError) as exc:
        print(f"error: {exc.args[0] if exc.args else exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
