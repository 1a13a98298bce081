"""A secret kept in a file readable by its owner only (standard library only: packed into the .mar)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def read_or_create_secret(path: Path) -> str:
    """The secret in `path`, created (64 random hex characters, mode 0600, directory 0700) when
    absent. Concurrent first callers agree: each writes a private temp file and hard-links it into
    place, which only one link wins."""
    if not path.is_file():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    secret = path.read_text(encoding="utf-8").strip()
    if len(secret) < 32:
        raise ValueError(f"{path}: the secret is too short ({len(secret)} characters); delete the file to generate one")
    return secret
