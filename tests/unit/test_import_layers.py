"""Imports run one way (docs/architecture.md, "Layers"): model_src imports only itself, the handler
only model_src, pipeline never the handler. The archive and the MLflow pyfunc pack model_src
alone, so an import across these lines would fail only on a clean machine."""

from __future__ import annotations

import ast

import pytest

from pipeline.config import PROJECT_ROOT

PROJECT_PACKAGES = {"model_src", "handlers", "pipeline", "scripts"}
ALLOWED = {
    "model_src": {"model_src"},
    "handlers": {"model_src"},
    "pipeline": {"model_src", "pipeline"},
}


def project_imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & PROJECT_PACKAGES


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_each_layer_imports_only_what_it_may(layer):
    crossing = {
        str(path.relative_to(PROJECT_ROOT)): sorted(found - ALLOWED[layer])
        for path in sorted((PROJECT_ROOT / layer).rglob("*.py"))
        if (found := project_imports(path)) - ALLOWED[layer]
    }
    assert crossing == {}
