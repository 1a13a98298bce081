"""Progress that suits where it is read: a tqdm bar on a terminal, one log line per stage elsewhere.

Why: tqdm writes a carriage-return update several times a second; in a log file (CI, `make bench >
log`) that is thousands of lines of bars. Off a terminal the stage is logged once when it ends
("augment: 1200/1200 row in 4.1 s"). Every progress bar in the project comes from `progress_bar()`.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any

from tqdm import tqdm

log = logging.getLogger(__name__)


class LoggedStage:
    """The part of tqdm's interface the project uses (iterate, update, set_postfix, close, with),
    counting silently and logging one line when the stage ends."""

    def __init__(self, iterable: Iterable | None = None, *, total: int | None = None, desc: str = "",
                 unit: str = "it", initial: int = 0):
        self.iterable, self.desc, self.unit, self.n = iterable, desc, unit, initial
        self.total = total if total is not None else (len(iterable) if hasattr(iterable, "__len__") else None)
        self.postfix: dict[str, Any] = {}
        self.started, self.closed = time.perf_counter(), False

    def __iter__(self) -> Iterator:
        try:
            for item in self.iterable:
                yield item
                self.n += 1
        finally:
            self.close()

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, **values: Any) -> None:
        self.postfix = values

    def line(self) -> str:
        done = f"{self.n}/{self.total}" if self.total is not None else str(self.n)
        extra = "".join(f", {k}={v}" for k, v in self.postfix.items())
        return f"{self.desc}: {done} {self.unit} in {time.perf_counter() - self.started:.1f} s{extra}"

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            log.info("%s", self.line())

    def __enter__(self) -> LoggedStage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def progress_bar(iterable: Iterable | None = None, *, total: int | None = None, desc: str, unit: str = "it",
             initial: int = 0, disable: bool = False, leave: bool = False) -> tqdm | LoggedStage:
    """A tqdm bar when stderr is a terminal, else a LoggedStage; disable=True (e.g. DDP ranks other
    than 0) shows and logs nothing."""
    if disable or sys.stderr.isatty():
        return tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, disable=disable, leave=leave)
    return LoggedStage(iterable, total=total, desc=desc, unit=unit, initial=initial)
