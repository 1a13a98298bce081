"""The published contract of the inference API: JSON Schema (draft 2020-12) files in serve_config/schema/.

One file per body (prediction_request, prediction_response, explanation_request,
explanation_response) sharing definitions.json, so any JSON Schema tool can use them as they
are; this module loads them into `jsonschema` validators with the shared file registered under
its own name, which is how the files reference it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from pipeline.config import PROJECT_ROOT

SCHEMA_DIR = PROJECT_ROOT / "serve_config" / "schema"
BODIES = ("prediction_request", "prediction_response", "explanation_request", "explanation_response")


def read_schema(name: str, schema_dir: Path = SCHEMA_DIR) -> dict:
    """A schema file's contents by name (without .json)."""
    return json.loads((schema_dir / f"{name}.json").read_text(encoding="utf-8"))


@cache
def validator(body: str) -> Draft202012Validator:
    """A validator for one of BODIES, resolving `definitions.json#/...` references offline."""
    if body not in BODIES:
        raise ValueError(f"unknown body {body!r}: one of {BODIES}")
    shared = Resource.from_contents(read_schema("definitions"), default_specification=DRAFT202012)
    registry = Registry().with_resource("definitions.json", shared)
    schema = read_schema(body)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


def closest_branch(branch_errors) -> list:
    """The errors of the oneOf/anyOf branch the document came closest to: a branch whose very type
    differs (an object checked against the list form) is furthest, then the one with fewer errors."""
    branches: dict[int, list] = defaultdict(list)
    for error in branch_errors:
        branches[error.relative_schema_path[0]].append(error)

    def distance(errors: list) -> tuple[bool, int]:
        return any(e.validator == "type" and not e.relative_path for e in errors), len(errors)

    return min(branches.values(), key=distance)


def contract_error(body: str, document) -> str | None:
    """Why `document` breaks the schema of `body` ("path: message", the most relevant error inside
    the oneOf branch that came closest), or None when it conforms."""
    error = best_match(validator(body).iter_errors(document))
    if error is None:
        return None
    while error.context:  # "not valid under any of the given schemas" says nothing: look inside
        error = best_match(closest_branch(error.context))
    return f"{'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}"
