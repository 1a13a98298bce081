"""Packaging stays honest: every third-party module the project's .py files import is pinned in
requirements.txt (the lock `make install` uses), pyproject.toml declares the same packages with
specifiers the lock satisfies, torch is pinned exactly in both, and every package folder is listed."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from pipeline.config import PROJECT_ROOT

SOURCE_DIRS = ("pipeline", "model_src", "handlers", "scripts", "tests")


def top_level_imports(path: Path) -> set[str]:
    """Absolute imports of one file, top-level names only (`import a.b` and `from a.b import c` -> a)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def first_party(root: Path) -> set[str]:
    """The project's own importable names: its top folders and every module file in them (the handler
    is imported as `intent_handler` from an unpacked .mar)."""
    return set(SOURCE_DIRS) | {p.stem for d in SOURCE_DIRS for p in (root / d).rglob("*.py")}


def third_party_imports(root: Path) -> dict[str, list[str]]:
    """Imported module -> files importing it, for every module that is neither stdlib nor the project's."""
    own, found = first_party(root), {}
    for folder in SOURCE_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            for name in top_level_imports(path) - own - set(sys.stdlib_module_names):
                found.setdefault(name, []).append(str(path.relative_to(root)))
    return found


def pins(requirements: Path) -> dict[str, str]:
    """requirements.txt -> {canonical name: exact version}; anything but `name==version` is an error."""
    out = {}
    for line in requirements.read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", line)
            assert match, f"requirements.txt: {line!r} is not an exact pin"
            out[canonicalize_name(match[1])] = match[2]
    return out


def unpinned_imports(root: Path, pinned: dict[str, str], distributions: dict[str, list[str]]) -> list[str]:
    """'module (file): why' for each third-party import whose distribution (import name ->
    distributions, as importlib.metadata.packages_distributions() maps them) has no pin."""
    problems = []
    for module, files in sorted(third_party_imports(root).items()):
        dists = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not dists:
            problems.append(f"{module} ({files[0]}): imported but no installed distribution provides it")
        elif not dists & pinned.keys():
            problems.append(f"{module} ({files[0]}): no pin for {sorted(dists)} in requirements.txt")
    return problems


@pytest.fixture(scope="module")
def pinned() -> dict[str, str]:
    return pins(PROJECT_ROOT / "requirements.txt")


@pytest.fixture(scope="module")
def distributions() -> dict[str, list[str]]:
    return importlib.metadata.packages_distributions()  # reads every installed RECORD: seconds


@pytest.fixture(scope="module")
def project() -> dict:
    return tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]


def test_every_imported_third_party_module_is_pinned(pinned, distributions):
    assert unpinned_imports(PROJECT_ROOT, pinned, distributions) == []


def test_an_unpinned_import_is_reported(tmp_path, pinned, distributions):
    """The scan itself: a file importing scipy and a missing module, against a lock without scipy."""
    for folder in SOURCE_DIRS:
        (tmp_path / folder).mkdir()
    (tmp_path / "pipeline" / "uses.py").write_text(
        "import os\nfrom scipy.optimize import minimize\nfrom pipeline.config import load_params\n"
        "def f():\n    import surely_not_installed_module\n")
    without_scipy = {name: v for name, v in pinned.items() if name != "scipy"}
    assert unpinned_imports(tmp_path, without_scipy, distributions) == [
        "scipy (pipeline/uses.py): no pin for ['scipy'] in requirements.txt",
        "surely_not_installed_module (pipeline/uses.py): imported but no installed distribution provides it",
    ]


def test_pyproject_declares_what_the_lock_pins(project, pinned):
    declared = [Requirement(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]]
    assert sorted(canonicalize_name(r.name) for r in declared) == sorted(pinned)
    for requirement in declared:
        assert requirement.specifier.contains(pinned[canonicalize_name(requirement.name)]), requirement
    assert {"pytest", "hypothesis", "ruff"} <= {canonicalize_name(Requirement(r).name)
                                                for r in project["optional-dependencies"]["dev"]}


def test_torch_is_pinned_exactly_everywhere(project, pinned):
    """Any other torch 2.x could resolve to a CUDA build from the index instead of the local CPU wheel."""
    assert pinned["torch"] == "2.13.0"
    assert "torch==2.13.0" in project["dependencies"]


def test_every_package_folder_is_packaged_and_every_command_has_a_main():
    setuptools = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    folders = {str(p.parent.relative_to(PROJECT_ROOT)).replace("/", ".")
               for d in ("pipeline", "model_src", "handlers") for p in (PROJECT_ROOT / d).rglob("__init__.py")}
    assert set(setuptools["packages"]) == folders | set(setuptools["package-dir"])
    scripts_dir = PROJECT_ROOT / setuptools["package-dir"]["betterprompts_scripts"]
    for command, target in tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]["scripts"].items():
        module, function = target.split(":")
        source = scripts_dir / f"{module.split('.')[-1]}.py"
        defined = {n.name for n in ast.parse(source.read_text()).body if isinstance(n, ast.FunctionDef)}
        assert function in defined, f"{command}: {source.name} has no {function}()"
