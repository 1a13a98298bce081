#!/usr/bin/env python
"""Check Kubernetes manifests against the API models of the kserve package (InferenceService) and
of the kubernetes client (Secret, ServiceAccount): run with the kserve venv (`make kserve-venv`).

    .venv-kserve/bin/python serve_config/kserve/validate_manifests.py serve_config/kserve/*.yaml

Each document is built into its model (V1beta1InferenceService, ...) field by field from the
models' own type tables: a field the model does not know (a typo), a value of the wrong type and a
missing required field (the model's own validation) are reported. Exit codes: 0 all valid,
1 a document is invalid (each problem printed as file:document: path), 2 bad arguments.
"""

from __future__ import annotations

import argparse
import re
import sys

import yaml

MODELS = {  # (apiVersion, kind) -> model class name (kserve.models, else kubernetes.client.models)
    ("serving.kserve.io/v1beta1", "InferenceService"): "V1beta1InferenceService",
    ("v1", "Secret"): "V1Secret",
    ("v1", "ServiceAccount"): "V1ServiceAccount",
}
# YAML value types per OpenAPI type name; a quantity ("2Gi", 1) and bytes (base64) are written as text
PRIMITIVES = {"str": str, "int": int, "float": (int, float), "bool": bool, "bytes": str,
              "ResourceQuantity": (str, int, float), "datetime": str}
LIST = re.compile(r"^[Ll]ist\[(.+)\]$")
DICT = re.compile(r"^(?:dict\(str, (.+)\)|Dict\[str, (.+)\])$")


def model_class(name: str):
    import kserve.models
    import kubernetes.client.models

    return getattr(kserve.models, name, None) or getattr(kubernetes.client.models, name)


def build(value, type_name: str, path: str, problems: list[str]):
    """value (parsed YAML) as an instance of type_name, the way the generated clients type it;
    problems collects unknown fields, wrong types and failed model validation, by path."""
    if match := LIST.match(type_name):
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list")
            return None
        return [build(v, match.group(1), f"{path}[{i}]", problems) for i, v in enumerate(value)]
    if match := DICT.match(type_name):
        if not isinstance(value, dict):
            problems.append(f"{path}: expected an object")
            return None
        inner = match.group(1) or match.group(2)
        return {k: build(v, inner, f"{path}/{k}", problems) for k, v in value.items()}
    if type_name == "object":
        return value
    if type_name in PRIMITIVES:
        if not isinstance(value, PRIMITIVES[type_name]) or (type_name != "bool" and isinstance(value, bool)):
            problems.append(f"{path}: {value!r} is not a {type_name}")
        return value
    cls = model_class(type_name)
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a {type_name} object")
        return None
    by_key = {key: attr for attr, key in cls.attribute_map.items()}
    kwargs = {}
    for key, item in value.items():
        if key not in by_key:
            problems.append(f"{path}/{key}: unknown field of {type_name}")
            continue
        kwargs[by_key[key]] = build(item, cls.openapi_types[by_key[key]], f"{path}/{key}", problems)
    try:
        return cls(**kwargs)
    except (ValueError, TypeError) as exc:  # the model's own checks: required fields, enums
        problems.append(f"{path or '/'}: not a valid {type_name}: {exc}")
        return None


def check_document(document: dict) -> list[str]:
    key = (document.get("apiVersion"), document.get("kind"))
    if key not in MODELS:
        return [f"no API model for apiVersion {key[0]!r} kind {key[1]!r}"]
    problems: list[str] = []
    build(document, MODELS[key], "", problems)
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="YAML manifests (several documents per file allowed)")
    args = parser.parse_args(argv)
    problems = []
    for name in args.files:
        try:
            with open(name, encoding="utf-8") as handle:
                documents = [d for d in yaml.safe_load_all(handle) if d]
        except (OSError, yaml.YAMLError) as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for index, document in enumerate(documents):
            problems += [f"{name}:{index}: {p}" for p in check_document(document)]
    for problem in problems:
        print(problem)
    print(f"{len(args.files)} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
