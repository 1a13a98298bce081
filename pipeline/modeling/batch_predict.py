"""Offline prediction of a prompts file (.jsonl, .csv, .txt) into a JSONL of the API's answers.

Why a module of its own: a file of millions of prompts must not be read whole, one bad row must
not lose the run, and each answer must carry the same fields as the served API. The file is read
as a stream in windows of rows; Predictor sorts each window by token length and batches it (a
short prompt is never padded to a long one), and the answers are written back in input order.
The answer object is built by model_src.responses with the handler's settings from params, as the
handler builds it, so a field added to the API appears here too. Bad rows (invalid JSON, missing or empty text, too
long) are reported with file and line on stderr and in `<output>.errors.jsonl`, and skipped.
Both files are written under a temporary name and renamed at the end: a crash leaves no half file.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from model_src.responses import build_answers, check_text, handler_settings
from pipeline.deploy.archive import model_config_yaml
from pipeline.modeling.predict import Predictor
from pipeline.progress import progress_bar

log = logging.getLogger(__name__)

FORMATS = (".jsonl", ".csv", ".txt")
WINDOW_BATCHES = 32  # rows sorted by length together: a window of batch_size x this many rows


@dataclass
class Row:
    """One input row: its 1-based line in the file and its text, or the reason it is unusable."""

    line: int
    text: str | None = None
    error: str | None = None


def _jsonl_rows(handle) -> Iterator[tuple[int, object]]:
    for line_no, line in enumerate(handle, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            yield line_no, ValueError(f"not valid JSON: {exc}")
            continue
        if not isinstance(record, dict) or "text" not in record:
            yield line_no, ValueError("expected a JSON object with a 'text' field")
            continue
        yield line_no, record["text"]


def _csv_rows(handle) -> Iterator[tuple[int, object]]:
    reader = csv.DictReader(handle)
    if reader.fieldnames is None or "text" not in reader.fieldnames:
        raise ValueError(f"CSV needs a 'text' column, got {reader.fieldnames}")
    last = reader.line_num
    for record in reader:
        yield last + 1, record["text"]  # the line the record starts on (a quoted field may span lines)
        last = reader.line_num


def _txt_rows(handle) -> Iterator[tuple[int, object]]:
    for line_no, line in enumerate(handle, 1):
        yield line_no, line.rstrip("\n")


READERS = {".jsonl": _jsonl_rows, ".csv": _csv_rows, ".txt": _txt_rows}


def check_input_path(path: Path) -> None:
    """Raise ValueError / FileNotFoundError for an input the run cannot start on."""
    if path.suffix not in READERS:
        raise ValueError(f"{path}: input must be one of {', '.join(FORMATS)}")
    if not path.is_file():
        raise FileNotFoundError(f"input file not found: {path}")


def read_rows(path: Path, max_chars: int) -> Iterator[Row]:
    """The file's rows one at a time, each text checked as the API checks it (undecodable bytes
    become surrogates, which the check reports as a bad row instead of stopping the read)."""
    check_input_path(path)
    with path.open(encoding="utf-8", errors="surrogateescape", newline="" if path.suffix == ".csv" else None) as handle:
        for line_no, value in READERS[path.suffix](handle):
            if isinstance(value, Exception):
                yield Row(line_no, error=str(value))
                continue
            text, reason = check_text(value, max_chars)
            yield Row(line_no, text=text, error=reason)


@dataclass
class BatchResult:
    rows: int = 0
    predicted: int = 0
    bad: int = 0


class BatchPredictor:
    """A Predictor plus the handler's answer settings; `answers(texts)` are the API's objects."""

    def __init__(self, model_dir: Path, params: dict, model_version: str, batch_size: int = 32):
        self.predictor = Predictor(model_dir, batch_size=batch_size)
        self.settings = handler_settings(model_config_yaml(params))
        self.model_version = model_version

    def answers(self, texts: list[str]) -> list[dict]:
        probs, level_probs, scores = self.predictor.predict_proba(texts)
        return build_answers(probs, level_probs, scores, intents=self.predictor.intents,
                             levels=self.predictor.complexity_levels, settings=self.settings,
                             model_version=self.model_version)


def _write_line(handle, record: dict) -> None:
    handle.write(json.dumps(record, ensure_ascii=False) + "\n")


def errors_path(output: Path) -> Path:
    return output.with_name(output.name + ".errors.jsonl")


def predict_file(batch: BatchPredictor, input_path: Path, output: Path, *, window: int | None = None) -> BatchResult:
    """Stream input_path into output (one answer per good row, with its `line`), bad rows into
    `<output>.errors.jsonl` and on stderr; both renamed into place only when the run ends."""
    window = window or batch.predictor.batch_size * WINDOW_BATCHES
    result = BatchResult()
    errors_file = errors_path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    tmp_out, tmp_err = output.with_name(output.name + ".partial"), errors_file.with_name(errors_file.name + ".partial")
    try:
        _stream(batch, input_path, tmp_out, tmp_err, window, result)
    except BaseException:  # a file that turns out unreadable (a CSV without `text`), Ctrl-C: no .partial left
        tmp_out.unlink(missing_ok=True)
        tmp_err.unlink(missing_ok=True)
        raise
    os.replace(tmp_out, output)
    if result.bad:
        os.replace(tmp_err, errors_file)
    else:
        tmp_err.unlink()
        errors_file.unlink(missing_ok=True)  # a previous run's errors would describe another input
    return result


def _stream(batch: BatchPredictor, input_path: Path, out_path: Path, err_path: Path, window: int,
            result: BatchResult) -> None:
    with out_path.open("w", encoding="utf-8") as out, err_path.open("w", encoding="utf-8") as err, \
            progress_bar(desc=f"predict {input_path.name}", unit="prompt") as bar:
        pending: list[Row] = []

        def flush() -> None:
            for row, answer in zip(pending, batch.answers([r.text for r in pending]), strict=True):
                _write_line(out, {"line": row.line, **answer})
            result.predicted += len(pending)
            bar.update(len(pending))
            pending.clear()

        for row in read_rows(input_path, batch.settings["max_chars"]):
            result.rows += 1
            if row.error is not None:
                result.bad += 1
                print(f"{input_path}:{row.line}: {row.error}", file=sys.stderr)
                _write_line(err, {"file": str(input_path), "line": row.line, "error": row.error})
                continue
            pending.append(row)
            if len(pending) >= window:
                flush()
        if pending:
            flush()
