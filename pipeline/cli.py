"""The opening every script in scripts/ shares, so each stays a thin CLI over one pipeline function.

Importing this module sets the offline defaults: huggingface_hub and transformers read them when
they are imported, so a script imports this before any module that loads them.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from pipeline.config import DEFAULT_PARAMS_PATH, check_safe_name, load_params

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
PROJECT_LOGGERS = ("pipeline", "model_src", "__main__")


def parser(doc: str | None, *, params: bool = True) -> argparse.ArgumentParser:
    """A parser showing the script's docstring, with `--params` (DVC's name for the file) unless params=False."""
    p = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    if params:
        p.add_argument("--params", type=Path, default=DEFAULT_PARAMS_PATH,
                       help="params file (default: the repository's params.yaml)")
        p.add_argument("--config", dest="params", type=Path, help=argparse.SUPPRESS)  # the flag's old name
    return p


def safe_name(value: str) -> str:
    """argparse type of a version or archive name: refused with its reason before any path use."""
    try:
        return check_safe_name(value, "name")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def setup_logging(level: int = logging.INFO) -> None:
    """The project's loggers at `level`; libraries stay at WARNING (onnxruntime alone logs hundreds of INFO lines)."""
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    for name in PROJECT_LOGGERS:
        logging.getLogger(name).setLevel(level)


def start(p: argparse.ArgumentParser, argv: list[str] | None = None,
          log_level: int = logging.INFO) -> tuple[argparse.Namespace, dict]:
    """Parse argv, configure logging, load --params; an unreadable or invalid file exits 2 like any bad argument."""
    args = p.parse_args(argv)
    setup_logging(log_level)
    try:
        params = load_params(args.params)
    except (FileNotFoundError, ValueError) as exc:
        p.error(f"--params: {exc}")
    return args, params
