"""Read labelled prompts from JSON, JSONL or CSV and validate every row.

Accepted files (UTF-8, optional BOM):
- `.jsonl` / `.ndjson`: one JSON object per line; blank lines are skipped.
- `.json`: a list of objects, or an object holding that list under one key (`data`, `rows`,
  `examples`, `samples`, `items`, `records` or `prompts`, or its only list-valued key).
- `.csv`: a header with columns `text` and `intent`, optionally `complexity`; other columns
  are ignored.

Each row needs `text` (string) and `intent` (one of params `intents`; case and surrounding
spaces ignored); `complexity` (one of params `complexity_levels`) is optional and, when absent,
derived from `model_src.features.complexity_score` (equal-width bins over [0, 1]).

A bad row becomes a reject `{"file", "line", "reason", "raw"}`: `line` is the 1-based line
where the row starts (JSON element, JSONL line, CSV record; the CSV header is line 1), `raw`
the offending text (cut to 500 characters). Reasons: bad JSON, not an object, missing field,
wrong type, unknown intent/complexity, empty text, text too long (params data.min_text_chars /
data.max_text_chars), bad encoding (non-UTF-8 bytes on that line). With `strict=False` the
rejects are returned next to the good rows; with `strict=True` any reject raises
`DataValidationError` (listing them all). Problems with the whole file (missing, empty,
unsupported type, unparseable JSON document, no usable list, missing CSV column) raise
`DataValidationError` in both modes: there are no rows to keep.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

RAW_PREVIEW_CHARS = 500
LIST_KEYS = ("data", "rows", "examples", "samples", "items", "records", "prompts")
REQUIRED_FIELDS = ("text", "intent")
JSONL_SUFFIXES = {".jsonl", ".ndjson"}


class DataValidationError(ValueError):
    """Input data that cannot be used; `rejects` holds the row-level problems, if any."""

    def __init__(self, message: str, rejects: list[dict] | None = None):
        super().__init__(message)
        self.rejects = rejects or []


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> int:
    """Write rows as UTF-8 JSON lines (non-ASCII kept readable); returns the row count."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_jsonl(path: str | Path) -> list[dict]:
    """Read a JSONL file written by write_jsonl (trusted: raises on the first bad line)."""
    rows = []
    with Path(path).open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise DataValidationError(f"{path}:{lineno}: bad JSON: {exc.msg}") from exc
    return rows


def format_reject(reject: dict) -> str:
    where = f"{reject['file']}:{reject['line']}" if reject.get("line") else str(reject["file"])
    return f"{where}: {reject['reason']}"


def _preview(raw: Any) -> str:
    text = raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, default=str)
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text if len(text) <= RAW_PREVIEW_CHARS else text[:RAW_PREVIEW_CHARS] + "...[cut]"


def _bad_byte(text: str, first_line: int = 1) -> str | None:
    """Describe the first undecodable byte (kept as a lone surrogate by surrogateescape)."""
    for pos, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            line = first_line + text.count("\n", 0, pos)
            col = pos - text.rfind("\n", 0, pos)
            return f"not UTF-8: byte 0x{ord(ch) - 0xDC00:02x} on line {line}, column {col}"
    return None


class _Validator:
    """Turns raw records into rows or rejects, with the file's name for messages."""

    def __init__(self, file: str, params: dict):
        self.file = file
        self.intents = list(params["intents"])
        self.levels = list(params["complexity_levels"])
        data = params.get("data", {})
        self.min_chars = int(data.get("min_text_chars", 1))
        self.max_chars = int(data.get("max_text_chars", 5000))
        self.rows: list[tuple[int, dict]] = []
        self.rejects: list[dict] = []

    def reject(self, line: int | None, reason: str, raw: Any) -> None:
        self.rejects.append({"file": self.file, "line": line, "reason": reason, "raw": _preview(raw)})

    def add(self, line: int, record: Any, source_text: str) -> None:
        bad = _bad_byte(source_text, line)
        if bad:
            self.reject(line, f"bad encoding: {bad}", source_text)
            return
        if not isinstance(record, dict):
            self.reject(
                line, f"wrong type: expected an object with text/intent, got {type(record).__name__}", record
            )
            return
        for name in REQUIRED_FIELDS:
            if name not in record or record[name] is None:
                self.reject(line, f"missing field '{name}'", record)
                return
        text, intent, level = record["text"], record["intent"], record.get("complexity")
        for name, value in (("text", text), ("intent", intent)):
            if not isinstance(value, str):
                self.reject(
                    line, f"wrong type: field '{name}' must be a string, got {type(value).__name__}", record
                )
                return
        intent = intent.strip().lower()
        if not intent:
            self.reject(line, "missing field 'intent' (empty)", record)
            return
        if intent not in self.intents:
            self.reject(
                line,
                f"unknown intent '{record['intent']}' (expected one of: {', '.join(self.intents)})",
                record,
            )
            return
        if level in (None, ""):
            level = None
        elif not isinstance(level, str):
            self.reject(
                line, f"wrong type: field 'complexity' must be a string, got {type(level).__name__}", record
            )
            return
        else:
            level = level.strip().lower()
            if level not in self.levels:
                self.reject(
                    line,
                    f"unknown complexity '{record['complexity']}' (expected one of: {', '.join(self.levels)})",
                    record,
                )
                return
        n_chars = len(text.strip())
        if n_chars < self.min_chars:
            self.reject(
                line,
                "empty text"
                if n_chars == 0
                else f"text too short: {n_chars} characters (min {self.min_chars})",
                record,
            )
            return
        if n_chars > self.max_chars:
            self.reject(line, f"text too long: {n_chars} characters (max {self.max_chars})", record)
            return
        if level is None:
            level = _level_from_score(text, self.levels)
        self.rows.append((line, {"text": text, "intent": intent, "complexity": level}))


def _level_from_score(text: str, levels: list[str]) -> str:
    from model_src.features import complexity_score

    return levels[min(int(complexity_score(text) * len(levels)), len(levels) - 1)]


def _decode(path: Path) -> str:
    """Whole file as text; undecodable bytes survive as lone surrogates so the row can be named."""
    text = path.read_bytes().decode("utf-8", "surrogateescape")
    return text[1:] if text.startswith("\ufeff") else text


def _jsonl(text: str, v: _Validator) -> None:
    for lineno, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        if _bad_byte(line):
            v.add(lineno, None, line)
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            v.reject(lineno, f"bad JSON: {exc.msg} (column {exc.colno})", line)
            continue
        v.add(lineno, record, line)


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _iter_array(text: str, pos: int, decoder: json.JSONDecoder) -> Iterator[tuple[int, int, Any]]:
    """Elements (start, end, value) of the JSON array starting at text[pos] == '['."""
    pos = _skip_ws(text, pos + 1)
    if text[pos] == "]":
        return
    while True:
        value, end = decoder.raw_decode(text, pos)
        yield pos, end, value
        pos = _skip_ws(text, end)
        if text[pos] == "]":
            return
        pos = _skip_ws(text, pos + 1)  # the ','


def _list_span(text: str, doc: Any, decoder: json.JSONDecoder) -> tuple[str, int]:
    """Where the list of rows starts in a valid JSON document (a list, or an object holding one)."""
    start = _skip_ws(text, 0)
    if isinstance(doc, list):
        return "", start
    if not isinstance(doc, dict):
        raise DataValidationError(
            f"expected a JSON list of rows or an object holding one, got {type(doc).__name__}"
        )
    list_keys = [k for k, val in doc.items() if isinstance(val, list)]
    named = [k for k in LIST_KEYS if k in list_keys]
    if named:
        key = named[0]
    elif len(list_keys) == 1:
        key = list_keys[0]
    else:
        raise DataValidationError(
            "JSON object holds no single list of rows: put them under one of "
            f"{', '.join(LIST_KEYS)} (list-valued keys found: {list_keys or 'none'})"
        )
    pos, found = _skip_ws(text, start + 1), start
    while text[pos] != "}":  # walk the members; the last one with the key wins, as in json.loads
        member_key, pos = decoder.raw_decode(text, pos)
        pos = _skip_ws(text, _skip_ws(text, pos) + 1)  # the ':'
        if member_key == key:
            found = pos
        _, pos = decoder.raw_decode(text, pos)
        pos = _skip_ws(text, pos)
        if text[pos] == ",":
            pos = _skip_ws(text, pos + 1)
    return key, found


def _json(text: str, v: _Validator) -> None:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        hint = " (one object per line? name the file .jsonl)" if exc.msg == "Extra data" else ""
        raise DataValidationError(
            f"{v.file}:{exc.lineno}: bad JSON: {exc.msg} (column {exc.colno}){hint}"
        ) from exc
    decoder = json.JSONDecoder()
    try:
        key, start = _list_span(text, doc, decoder)
    except DataValidationError as exc:
        raise DataValidationError(f"{v.file}: {exc}") from exc
    for el_start, el_end, value in _iter_array(text, start, decoder):
        v.add(text.count("\n", 0, el_start) + 1, value, text[el_start:el_end])


def _csv(text: str, v: _Validator) -> None:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        header = []
    columns = [h.strip().lower() for h in header]
    missing = [name for name in REQUIRED_FIELDS if name not in columns]
    if missing:
        raise DataValidationError(
            f"{v.file}:1: missing required column(s) {', '.join(repr(m) for m in missing)} "
            f"(header has: {', '.join(header) or 'nothing'}; need text, intent[, complexity])"
        )
    index = {name: columns.index(name) for name in (*REQUIRED_FIELDS, "complexity") if name in columns}
    line = reader.line_num + 1
    for record in reader:
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue
        source = ",".join(record)
        if len(record) < len(header):
            v.reject(start, f"wrong number of columns: {len(record)} (header has {len(header)})", source)
            continue
        v.add(start, {name: record[i] for name, i in index.items()}, source)


def load_labelled_records(
    path: str | Path, params: dict, strict: bool = False
) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Like load_labelled_file, but each row comes with the line it starts on: [(line, row)]."""
    path = Path(path)
    name = str(path)
    if not path.is_file():
        raise DataValidationError(f"{name}: file not found")
    suffix = path.suffix.lower()
    if suffix not in {".json", ".csv", *JSONL_SUFFIXES}:
        raise DataValidationError(f"{name}: unsupported file type '{suffix}' (use .json, .jsonl or .csv)")
    text = _decode(path)
    if not text.strip():
        raise DataValidationError(f"{name}: file is empty (no rows)")
    validator = _Validator(name, params)
    if suffix in JSONL_SUFFIXES:
        _jsonl(text, validator)
    elif suffix == ".json":
        _json(text, validator)
    else:
        _csv(text, validator)
    if strict and validator.rejects:
        shown = "\n  ".join(format_reject(r) for r in validator.rejects[:20])
        more = f"\n  ... and {len(validator.rejects) - 20} more" if len(validator.rejects) > 20 else ""
        raise DataValidationError(
            f"{name}: {len(validator.rejects)} bad row(s) (strict mode):\n  {shown}{more}", validator.rejects
        )
    return validator.rows, validator.rejects


def load_labelled_file(path: str | Path, params: dict, strict: bool = False) -> tuple[list[dict], list[dict]]:
    """Validated rows {text, intent, complexity} of a JSON/JSONL/CSV file, and the rejects.

    Raises DataValidationError for a file-level problem, or for any bad row when strict.
    """
    records, rejects = load_labelled_records(path, params, strict=strict)
    return [row for _, row in records], rejects
