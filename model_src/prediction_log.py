"""Sampled prediction log for drift monitoring, live accuracy and active learning.

Packed into the TorchServe .mar and called by the handler, so it uses the standard library
only and never blocks or fails a request: `PredictionLogger.log()` samples, encodes one JSON
line (~30 us) and puts it on a bounded queue (`put_nowait`); a daemon thread wakes every
`write_interval` seconds and appends what is waiting to a size-rotated file. Waking per record
instead cost a served request ~0.6 ms of CPU at 240 requests/s (thread wake-ups and GIL
hand-offs; README "Serving"). A full queue drops the record and counts it (`stats()["dropped"]`).

Each TorchServe worker is its own process: give each a file of its own (a `{pid}` in the path
is replaced by the process id) because two processes rotating one file lose lines. Readers
(`read_prediction_log`) take a directory and read every `*.jsonl` and rotated `*.jsonl.N`.

Privacy: files are created 0600 in a 0700 directory. The text is identified by an HMAC-SHA256
keyed with a secret (`hash_key`: generated on first use, 0600, outside the repository), so a
short prompt cannot be recovered by hashing a dictionary of candidates. Retention is by time:
the writer starts a new file every `rotate_seconds` and deletes every log file of the directory
(other and dead workers' included) whose last write is older than `retention_seconds`; a record
is gone at most retention + rotation + one purge interval after it was written. Raw text is
logged only with log_raw_text, into files named `*-raw.jsonl` that have their own, shorter,
`raw_text_retention_seconds`.

Record (one JSON object per line):
    ts              ISO-8601 UTC time of the prediction
    model_version   str
    text_hash       keyed HMAC-SHA256 hex of the normalised text (see `text_hash`), joins with feedback
    text_chars      int, length of the raw text
    features        {feature name: float}    (model_src.features, when the handler passes them)
    intent          predicted intent
    confidence      probability of the predicted intent
    probabilities   {intent: float}          (optional; needed for margin/entropy)
    complexity      {"level": str, "score": float}
    text            raw text, only when log_raw_text is true (privacy: off by default)
    cached          true when the answer came from the cache (the handler logs hits too)
    ...             any extra keys the caller passes (e.g. "language")
"""

from __future__ import annotations

import datetime as _dt
import functools
import hashlib
import hmac
import json
import os
import queue
import random
import re
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from model_src.secret_file import read_or_create_secret

_WS = re.compile(r"\s+")
_ROTATED = re.compile(r"\.jsonl(\.\d+)?$")
# Floats in the log are rounded: 4 decimals keep PSI/KS/entropy exact enough and halve the line size.
FLOAT_DIGITS = 4
HASH_KEY_ENV = "BETTERPROMPTS_LOG_KEY_FILE"
DEFAULT_HASH_KEY_FILE = "~/.config/betterprompts/prediction_log.key"
RAW_SUFFIX = "-raw"  # files holding raw text: predictions-123-raw.jsonl
PURGE_INTERVAL = 60.0  # seconds between retention passes of the writer thread
DAY = 86400.0


def normalise_text(text: str) -> str:
    """Lower-case, trim and collapse whitespace: the same prompt typed twice hashes the same."""
    return _WS.sub(" ", text.strip().lower())


def hash_key_file() -> Path:
    """Where the text-hash key lives: env BETTERPROMPTS_LOG_KEY_FILE, else ~/.config/betterprompts/."""
    return Path(os.environ.get(HASH_KEY_ENV) or DEFAULT_HASH_KEY_FILE).expanduser()


@functools.lru_cache(maxsize=4)
def load_hash_key(path: Path) -> bytes:
    """The key in `path`, created (0600) on first use."""
    return read_or_create_secret(path).encode("utf-8")


def hash_key() -> bytes:
    """The key every reader and writer of text hashes shares (one per machine and user)."""
    return load_hash_key(hash_key_file())


def text_hash(text: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 of the normalised text under `key` (default: `hash_key()`): identifies a prompt
    without storing it, and without letting anyone who lacks the key test guesses against it."""
    return hmac.new(key if key is not None else hash_key(), normalise_text(text).encode("utf-8"), hashlib.sha256).hexdigest()


def private_file(path: Path):
    """`path` opened for appending, created 0600 (and made 0600 if it existed)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "a", encoding="utf-8")


def purge_expired(directory: Path, retention_seconds: float, raw_text_retention_seconds: float,
                  now: float | None = None) -> list[Path]:
    """Delete the log files in `directory` whose last write is older than their retention
    (`*-raw.jsonl*` files: the raw-text one); returns what was deleted."""
    now = time.time() if now is None else now
    deleted = []
    for f in log_files(directory):
        limit = raw_text_retention_seconds if f"{RAW_SUFFIX}.jsonl" in f.name else retention_seconds
        try:
            if now - f.stat().st_mtime > limit:
                f.unlink()
                deleted.append(f)
        except FileNotFoundError:  # another worker purged it first
            pass
    return deleted


def _round(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, FLOAT_DIGITS)
    if isinstance(value, Mapping):
        return {str(k): _round(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    if hasattr(value, "item"):  # numpy scalar, without importing numpy
        return _round(value.item())
    return value


class RotatingJsonlWriter:
    """Appends lines to `path` (mode 0600); past `max_bytes`, or when the file is older than
    `max_age_seconds`, it shifts path -> path.1 -> ... -> path.N."""

    def __init__(self, path: str | Path, max_bytes: int, backup_count: int, max_age_seconds: float | None = None):
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be > 0, got {max_bytes}")
        if backup_count < 0:
            raise ValueError(f"backup_count must be >= 0, got {backup_count}")
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.backup_count = backup_count
        self.max_age_seconds = max_age_seconds
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._open()

    def _open(self) -> None:
        self._fh = private_file(self.path)
        stat = self.path.stat()
        self._size = stat.st_size
        self._opened = stat.st_mtime if self._size else time.time()

    def rotate_if_old(self) -> None:
        """Start a new file when this one is older than max_age_seconds (so retention can delete it)."""
        if self.max_age_seconds is not None and self._size and time.time() - self._opened > self.max_age_seconds:
            self._rotate()

    def write_lines(self, lines: list[str]) -> None:
        if not self.path.exists():  # purged while idle (older than its retention): start afresh
            self._fh.close()
            self._open()
        self.rotate_if_old()
        for line in lines:
            data = line + "\n"
            if self._size and self._size + len(data) > self.max_bytes:
                self._rotate()
            self._fh.write(data)
            self._size += len(data.encode("utf-8"))
        self._fh.flush()

    def _rotate(self) -> None:
        self._fh.close()
        if self.backup_count == 0:
            self.path.unlink(missing_ok=True)
        else:
            for i in range(self.backup_count - 1, 0, -1):
                src = self.path.with_name(f"{self.path.name}.{i}")
                if src.exists():
                    src.replace(self.path.with_name(f"{self.path.name}.{i + 1}"))
            self.path.replace(self.path.with_name(f"{self.path.name}.1"))
        self._open()

    def close(self) -> None:
        self._fh.close()


class PredictionLogger:
    """Samples predictions and writes them off the request path.

    Args:
        path: JSONL file; `{pid}` is replaced by the process id (one file per worker).
        sample_rate: fraction of predictions logged, 0..1.
        log_raw_text: store the prompt itself (needed by active learning); off = hash only.
            The file name then ends in -raw.jsonl and raw_text_retention_seconds applies to it.
        max_bytes, backup_count: rotation (file size in bytes, rotated files kept).
        retention_seconds, raw_text_retention_seconds: files last written longer ago are deleted.
        rotate_seconds: a new file at least this often, so old records can be deleted.
        key: the text-hash key (default: `hash_key()`, the one feedback and active learning use).
        queue_size: records buffered before new ones are dropped.
        write_interval: seconds the writer sleeps between writes (records wait at most this long).
        seed: for the sampling RNG (tests).
    """

    def __init__(
        self,
        path: str | Path,
        sample_rate: float = 1.0,
        *,
        log_raw_text: bool = False,
        max_bytes: int = 10_000_000,
        backup_count: int = 5,
        queue_size: int = 10_000,
        write_interval: float = 0.5,
        retention_seconds: float = 30 * DAY,
        raw_text_retention_seconds: float = 7 * DAY,
        rotate_seconds: float = 3600.0,
        key: bytes | None = None,
        seed: int | None = None,
    ):
        if not 0.0 <= sample_rate <= 1.0:
            raise ValueError(f"sample_rate must be in [0, 1], got {sample_rate}")
        if queue_size <= 0:
            raise ValueError(f"queue_size must be > 0, got {queue_size}")
        if min(retention_seconds, raw_text_retention_seconds, rotate_seconds) <= 0:
            raise ValueError("retention and rotation times must be > 0")
        path = Path(str(path).replace("{pid}", str(os.getpid())))
        if log_raw_text and not path.name.endswith(f"{RAW_SUFFIX}.jsonl"):
            path = path.with_name(path.name.removesuffix(".jsonl") + f"{RAW_SUFFIX}.jsonl")
        self.path = path
        self.sample_rate = float(sample_rate)
        self.log_raw_text = bool(log_raw_text)
        self.retention_seconds = float(retention_seconds)
        self.raw_text_retention_seconds = float(raw_text_retention_seconds)
        self._hash_key = key if key is not None else hash_key()
        self._writer = RotatingJsonlWriter(self.path, max_bytes, backup_count, max_age_seconds=rotate_seconds)
        self._purged_at = 0.0
        self.write_interval = float(write_interval)
        self._queue: queue.Queue[str | None] = queue.Queue(maxsize=queue_size)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counts = {"seen": 0, "sampled_out": 0, "enqueued": 0, "dropped": 0, "written": 0, "errors": 0}
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="prediction-log-writer", daemon=True)
        self._thread.start()

    @classmethod
    def from_params(cls, params: Mapping[str, Any], root: str | Path | None = None) -> PredictionLogger | None:
        """A logger configured by params `monitor:`; None when monitor.prediction_log.enabled is false.

        The env var BETTERPROMPTS_PREDICTION_LOG overrides the path (TorchServe runs the handler
        from a temporary model directory, so the server launcher sets an absolute path).
        """
        cfg = dict(params.get("monitor", {}).get("prediction_log", {}))
        if not cfg.get("enabled", True):
            return None
        path = os.environ.get("BETTERPROMPTS_PREDICTION_LOG") or cfg.get("path", "prediction_logs/predictions-{pid}.jsonl")
        if root is not None and not Path(path).is_absolute():
            path = Path(root) / path
        return cls(
            path,
            sample_rate=float(cfg.get("sample_rate", 1.0)),
            log_raw_text=bool(params.get("monitor", {}).get("log_raw_text", False)),
            max_bytes=int(cfg.get("max_bytes", 10_000_000)),
            backup_count=int(cfg.get("backup_count", 5)),
            queue_size=int(cfg.get("queue_size", 10_000)),
            write_interval=float(cfg.get("write_interval_seconds", 0.5)),
            retention_seconds=float(cfg.get("retention_days", 30)) * DAY,
            raw_text_retention_seconds=float(cfg.get("raw_text_retention_days", 7)) * DAY,
            rotate_seconds=float(cfg.get("rotate_hours", 1)) * 3600.0,
        )

    def log(
        self,
        *,
        text: str,
        model_version: str,
        intent: str,
        confidence: float,
        complexity: Mapping[str, Any] | None = None,
        features: Mapping[str, float] | None = None,
        probabilities: Mapping[str, float] | None = None,
        **extra: Any,
    ) -> bool:
        """Record one prediction if sampled; True when queued. Never raises, never blocks."""
        try:
            with self._lock:
                self._counts["seen"] += 1
                if self._closed:
                    self._counts["dropped"] += 1
                    return False
                if self.sample_rate < 1.0 and self._rng.random() >= self.sample_rate:
                    self._counts["sampled_out"] += 1
                    return False
            record: dict[str, Any] = {
                "ts": _dt.datetime.now(_dt.UTC).isoformat(timespec="milliseconds"),
                "model_version": str(model_version),
                "text_hash": text_hash(text, self._hash_key),
                "text_chars": len(text),
                "intent": intent,
                "confidence": confidence,
            }
            if complexity is not None:
                record["complexity"] = dict(complexity)
            if features is not None:
                record["features"] = dict(features)
            if probabilities is not None:
                record["probabilities"] = dict(probabilities)
            record.update(extra)
            if self.log_raw_text:
                record["text"] = text
            self._queue.put_nowait(json.dumps(_round(record), ensure_ascii=False))
        except queue.Full:
            with self._lock:
                self._counts["dropped"] += 1
            return False
        except Exception:  # a monitoring bug must never fail a prediction
            with self._lock:
                self._counts["errors"] += 1
            return False
        with self._lock:
            self._counts["enqueued"] += 1
        return True

    def purge(self) -> list[Path]:
        """Rotate this worker's file if old, delete expired files of the directory (all workers')."""
        self._purged_at = time.monotonic()
        self._writer.rotate_if_old()
        return purge_expired(self.path.parent, self.retention_seconds, self.raw_text_retention_seconds)

    def _run(self) -> None:
        while True:
            if time.monotonic() - self._purged_at >= PURGE_INTERVAL:
                try:
                    self.purge()
                except OSError:
                    with self._lock:
                        self._counts["errors"] += 1
            try:  # wake at least once per purge interval, traffic or not
                batch = [self._queue.get(timeout=PURGE_INTERVAL)]
            except queue.Empty:
                continue
            if batch[0] is not None:
                time.sleep(self.write_interval)  # let records gather: one wake-up and one write per interval
            while True:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(r is None for r in batch)
            lines = [r for r in batch if r is not None]
            try:
                self._writer.write_lines(lines)
                with self._lock:
                    self._counts["written"] += len(lines)
            except Exception:
                with self._lock:
                    self._counts["errors"] += len(lines)
            for _ in batch:
                self._queue.task_done()
            if stop:
                return

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until queued records are on disk (tests, shutdown); False on timeout."""
        done = threading.Event()

        def wait() -> None:
            self._queue.join()
            done.set()

        threading.Thread(target=wait, daemon=True).start()
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, stop the thread, close the file. Idempotent."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            self._queue.put(None, timeout=timeout)
        except queue.Full:
            pass
        self._thread.join(timeout)
        self._writer.close()

    def stats(self) -> dict[str, int]:
        """Counters: seen, sampled_out, enqueued, dropped (queue full), written, errors."""
        with self._lock:
            return dict(self._counts)


def log_files(path: str | Path) -> list[Path]:
    """The log files under `path` (a file or a directory), oldest rotation first."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise FileNotFoundError(f"prediction log not found: {p}")

    def age(f: Path) -> tuple[str, int]:
        suffix = f.name.rsplit(".", 1)[-1]
        rotation = int(suffix) if suffix.isdigit() else 0
        return (f.name.split(".jsonl")[0], -rotation)

    return sorted((f for f in p.iterdir() if f.is_file() and _ROTATED.search(f.name)), key=age)


def read_prediction_log(path: str | Path) -> Iterator[dict[str, Any]]:
    """Records from a log file or directory; a corrupt line raises naming file and line.

    A last line without its newline is being written right now and is skipped, not an error.
    """
    for f in log_files(path):
        with f.open(encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip() or not line.endswith("\n"):
                    continue  # blank, or the last line still being written by the server
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{f}:{lineno}: not valid JSON ({exc.msg})") from exc
                if not isinstance(record, dict):
                    raise ValueError(f"{f}:{lineno}: expected a JSON object, got {type(record).__name__}")
                yield record


def records_with(records: Iterable[dict[str, Any]], *keys: str) -> list[dict[str, Any]]:
    """Records that carry every key in `keys` (older or sampled-down records may lack some)."""
    return [r for r in records if all(k in r for k in keys)]
