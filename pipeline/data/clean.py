"""Text normalisation and de-duplication of labelled rows.

`clean_text` makes equal-looking prompts equal strings, so dedupe and the train/val/test
leak checks see them as one: Unicode NFKC, control characters removed, runs of spaces
collapsed, trailing/leading blanks and extra blank lines dropped. Code blocks (``` or ~~~
fenced, and 4-space/tab indented blocks after a blank line) are left byte-for-byte intact,
because indentation and symbols are the signal there. `clean_text(clean_text(x)) ==
clean_text(x)` holds (property-tested).

`dedupe` keeps the first row of each group of texts equal under `dedupe_key`
(case-folded, whitespace-insensitive); a group whose rows disagree on the intent is removed
entirely and reported, since no one can tell which label is right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

# characters that end a line besides \n (normalised to \n before anything else)
_NEWLINES = re.compile(r"\r\n|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# invisible format characters that only make equal texts differ
_INVISIBLE = {"\u200b", "\u200c", "\u2060", "\ufeff", "\u00ad"}
_FENCE_OPEN = re.compile(r"^[ \t]*(`{3,}|~{3,})")
_INDENTED = re.compile(r"^( {4}|\t)")
_SPACES = re.compile(r"[^\S\n]+")
_MAX_PASSES = 4


def _remove_controls(text: str) -> str:
    """Drop control characters (category Cc) except newline and tab, and invisible format chars."""
    return "".join(
        ch for ch in text if (ch in "\n\t" or unicodedata.category(ch) != "Cc") and ch not in _INVISIBLE
    )


def split_code_segments(text: str) -> list[tuple[bool, str]]:
    """Split text into (is_code, chunk) pieces that join back with "\\n" to the input.

    Fenced blocks run from the opening fence line to the closing one (or to the end when never
    closed); an indented block is a run of lines indented by 4 spaces or a tab that follows a
    blank line (never the first line, as in Markdown a paragraph cannot start a code block).
    """
    lines = text.split("\n")
    segments: list[tuple[bool, list[str]]] = []

    def add(is_code: bool, line: str) -> None:
        if segments and segments[-1][0] == is_code:
            segments[-1][1].append(line)
        else:
            segments.append((is_code, [line]))

    i = 0
    while i < len(lines):
        line = lines[i]
        fence = _FENCE_OPEN.match(line)
        if fence:
            marker = fence.group(1)
            closer = re.compile(rf"^[ \t]*{re.escape(marker[0])}{{{len(marker)},}}[ \t]*$")
            block = [line]
            i += 1
            while i < len(lines):
                block.append(lines[i])
                i += 1
                if closer.match(block[-1]):
                    break
            segments.append((True, block))
            continue
        prev_blank = i > 0 and lines[i - 1].strip() == ""
        in_indented = segments and segments[-1][0] and _INDENTED.match(segments[-1][1][-1] or "")
        if _INDENTED.match(line) and line.strip() and (prev_blank or in_indented):
            add(True, line)
        else:
            add(False, line)
        i += 1
    return [(is_code, "\n".join(chunk)) for is_code, chunk in segments]


def _clean_prose(chunk: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in unicodedata.normalize("NFKC", chunk).split("\n")]
    out: list[str] = []
    for line in lines:
        if line == "" and out and out[-1] == "":
            continue  # at most one blank line in a row
        out.append(line)
    return "\n".join(out)


def _clean_once(text: str) -> str:
    text = _remove_controls(_NEWLINES.sub("\n", text)).strip()
    parts = [chunk if is_code else _clean_prose(chunk) for is_code, chunk in split_code_segments(text)]
    return "\n".join(parts).strip()


def clean_text(text: str) -> str:
    """Normalise one prompt (see module docstring); idempotent.

    Normalising prose can create a fence marker (full-width backticks become ```), which moves
    a code-block boundary; passes repeat until the text stops changing (two in practice).
    """
    for _ in range(_MAX_PASSES):
        cleaned = _clean_once(text)
        if cleaned == text:
            break
        text = cleaned
    return text


def dedupe_key(text: str) -> str:
    """Key under which two cleaned texts count as the same prompt: case and whitespace ignored."""
    return " ".join(text.casefold().split())


@dataclass
class DedupeResult:
    rows: list[dict]
    duplicates: list[dict] = field(default_factory=list)  # dropped repeats, each with `duplicate_of`
    conflicts: list[dict] = field(default_factory=list)  # removed rows whose text has several intents


def dedupe(rows: Iterable[dict]) -> DedupeResult:
    """Keep the first row per dedupe_key; drop whole groups whose intents disagree.

    Rows keep any extra fields (e.g. `line`), so the reports can point back to the source.
    """
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(dedupe_key(row["text"]), []).append(row)
    result = DedupeResult(rows=[])
    for key, group in groups.items():
        intents = sorted({row["intent"] for row in group})
        if len(intents) > 1:
            result.conflicts.extend({**row, "conflict_key": key, "intents_seen": intents} for row in group)
            continue
        first = group[0]
        result.rows.append(first)
        result.duplicates.extend({**row, "duplicate_of": first.get("line")} for row in group[1:])
    return result
