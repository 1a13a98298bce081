"""The single source of configuration: params.yaml at the repository root.

Every script and module reads labels, paths and hyper-parameters from here, so a value
changed in params.yaml changes it everywhere (and DVC sees the change).
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import yaml

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PARAMS_PATH = PROJECT_ROOT / "params.yaml"
# versions, archive and model names become file names, URL path parts and a response header
SAFE_NAME = re.compile(r"[A-Za-z0-9._-]+")


def load_params(path: str | Path | None = None) -> dict[str, Any]:
    """Read params.yaml (or `path`) and check the parts every stage relies on."""
    path = Path(path) if path is not None else DEFAULT_PARAMS_PATH
    if not path.is_file():
        raise FileNotFoundError(f"params file not found: {path}")
    with path.open(encoding="utf-8") as fh:
        params = yaml.safe_load(fh)
    if not isinstance(params, dict):
        raise ValueError(f"{path}: expected a mapping at the top level, got {type(params).__name__}")
    intents = params.get("intents")
    if not isinstance(intents, list) or not intents or not all(isinstance(i, str) for i in intents):
        raise ValueError(f"{path}: 'intents' must be a non-empty list of strings")
    if len(set(intents)) != len(intents):
        raise ValueError(f"{path}: 'intents' has duplicates")
    levels = params.get("complexity_levels")
    if not isinstance(levels, list) or not levels:
        raise ValueError(f"{path}: 'complexity_levels' must be a non-empty list")
    return params


def resolve_path(path: str | Path, root: Path = PROJECT_ROOT) -> Path:
    """A params path relative to the repository root, or an absolute path unchanged."""
    p = Path(path)
    return p if p.is_absolute() else root / p


def merged(params: dict[str, Any], overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A deep copy of params with section-level overrides applied ({'train': {'epochs': 1}})."""
    out = copy.deepcopy(params)
    for section, values in overrides.items():
        if isinstance(values, dict):
            out.setdefault(section, {}).update(values)
        else:
            out[section] = values
    return out


def check_safe_name(value: str, what: str) -> str:
    """`value` if it may be a file name or URL path part (letters, digits, '.', '_', '-'; not '.'
    or '..'), else ValueError naming `what`. Checked before any path or URL is built from it."""
    if not SAFE_NAME.fullmatch(value) or value in (".", ".."):
        raise ValueError(f"{what} {value!r} may only hold letters, digits, '.', '_' and '-' (and is not '.' or '..')")
    return value
