"""The prepare stage: raw file -> validated -> cleaned -> deduplicated -> split -> augmented.

Writes (paths from params `paths`):
- <processed_dir>/{train,val,test}.jsonl: rows {text, intent, complexity, complexity_score}
  (+ `augmented: true` on train copies); val/test are never augmented.
- <processed_dir>/stats.json: counts per split and intent, rejects by reason, duplicates,
  conflicts, augmentation counts, SHA-256 of the input and of each output file.
- <interim_dir>/clean.jsonl: the validated, cleaned, deduplicated rows with their source line.
- <interim_dir>/rejected.jsonl + rejected_summary.txt: every row not used, and why
  (validation failures, texts empty after cleaning, duplicates, conflicting labels).

Every input row is accounted for: rows read = kept + rejected + duplicates + conflicting.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path

from pipeline.data.augment import augment_rows
from pipeline.data.clean import clean_text, dedupe
from pipeline.config import PROJECT_ROOT, resolve_path
from model_src.features import complexity_score
from pipeline.data.ingest import DataValidationError, format_reject, load_labelled_records, write_jsonl
from pipeline.data.split import SPLITS, split_ratios, stratified_split

SUMMARY_EXAMPLES = 20


def _display(path: Path) -> str:
    """Path as shown in reports: relative to the repository when inside it (no machine paths)."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _reason_kind(reason: str) -> str:
    """The reason without its specifics (line numbers, byte positions), for counting."""
    return re.sub(r"line \d+", "line N", reason.split(":")[0].split(" (")[0])


def _write_summary(path: Path, source: str, counts: dict, rejected: list[dict]) -> None:
    by_reason = Counter(_reason_kind(r["reason"]) for r in rejected)
    lines = [
        f"source: {source}",
        f"rows read: {counts['read']} = kept {counts['kept']} + rejected {counts['rejected']} "
        f"+ duplicates {counts['duplicates']} + conflicting labels {counts['conflicts']}",
        "",
        "not used, by reason:" if rejected else "every row was used.",
        *(f"  {n:6d}  {reason}" for reason, n in by_reason.most_common()),
    ]
    if rejected:
        lines += [
            "",
            f"first {min(SUMMARY_EXAMPLES, len(rejected))} (all of them in {path.stem.replace('_summary', '')}.jsonl):",
        ]
        lines += [f"  {format_reject(r)}" for r in rejected[:SUMMARY_EXAMPLES]]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def prepare(params: dict, input_path: str | Path | None = None, strict: bool | None = None) -> dict:
    """Run the whole stage; returns the stats written to stats.json.

    input_path defaults to params paths.raw_data; strict defaults to params data.strict.
    Raises DataValidationError for unusable input (or any bad row when strict).
    """
    strict = bool(params.get("data", {}).get("strict", False)) if strict is None else strict
    source = resolve_path(input_path or params["paths"]["raw_data"])
    interim = resolve_path(params["paths"]["interim_dir"])
    processed = resolve_path(params["paths"]["processed_dir"])
    shown = _display(source)

    records, rejects = load_labelled_records(source, params, strict=strict)
    for r in rejects:
        r["file"] = shown
    n_invalid = len(rejects)
    deduped = dedupe(_clean_rows(records, rejects, shown, strict))
    counts = _row_counts(len(records) + n_invalid, rejects, deduped)
    _write_interim(interim, shown, counts, rejects, deduped)

    seed = int(params["seed"])
    rows = [{k: v for k, v in row.items() if k != "line"} for row in deduped.rows]
    splits = stratified_split(rows, split_ratios(params), seed, params["complexity_levels"])
    augmented = augment_rows(
        splits["train"], [r["text"] for s in ("val", "test") for r in splits[s]], params, seed
    )
    splits["train"] = augmented.rows
    outputs = _write_splits(processed, splits)
    stats = _stats(params, shown, _sha256(source), counts, rejects, splits, augmented.stats, outputs)
    (processed / "stats.json").write_text(json.dumps(stats, indent=2) + "\n", encoding="utf-8")
    return stats


def _clean_rows(records: list, rejects: list[dict], shown: str, strict: bool) -> list[dict]:
    """Cleaned rows with their source line; a text that cleans to nothing joins `rejects` (or fails when strict)."""
    cleaned = []
    for line, row in records:
        text = clean_text(row["text"])
        if not text:
            reject = {
                "file": shown,
                "line": line,
                "reason": "empty text after cleaning",
                "raw": row["text"][:500],
            }
            if strict:
                raise DataValidationError(f"{format_reject(reject)} (strict mode)", [reject])
            rejects.append(reject)
        else:
            cleaned.append({**row, "text": text, "line": line})
    return cleaned


def _row_counts(n_read: int, rejects: list[dict], deduped) -> dict:
    """Where every row read went; refuses to go on when they do not add up (rows lost by a bug)."""
    counts = {
        "read": n_read,
        "kept": len(deduped.rows),
        "rejected": len(rejects),
        "duplicates": len(deduped.duplicates),
        "conflicts": len(deduped.conflicts),
    }
    if counts["read"] != counts["kept"] + counts["rejected"] + counts["duplicates"] + counts["conflicts"]:
        raise RuntimeError(f"row accounting is off (a bug): {counts}")
    return counts


def _write_interim(interim: Path, shown: str, counts: dict, rejects: list[dict], deduped) -> None:
    """clean.jsonl and every row not used (rejects, duplicates, conflicts) with why, in input order.

    Written before the no-rows check, so an unusable file still leaves the reasons to read.
    """
    not_used = rejects + [
        {"file": shown, "line": d["line"], "reason": f"duplicate of line {d['duplicate_of']}", "raw": d["text"][:500]}
        for d in deduped.duplicates
    ] + [
        {"file": shown, "line": c["line"], "reason": f"conflicting labels for the same text: {', '.join(c['intents_seen'])}",
         "raw": c["text"][:500]}
        for c in deduped.conflicts
    ]  # fmt: skip
    not_used.sort(key=lambda r: r["line"] or 0)
    interim.mkdir(parents=True, exist_ok=True)
    write_jsonl(interim / "clean.jsonl", deduped.rows)
    write_jsonl(interim / "rejected.jsonl", not_used)
    _write_summary(interim / "rejected_summary.txt", shown, counts, not_used)
    if not deduped.rows:
        raise DataValidationError(
            f"{shown}: no usable rows left (see {_display(interim / 'rejected_summary.txt')})", rejects
        )


def _write_splits(processed: Path, splits: dict[str, list[dict]]) -> dict[str, Path]:
    """{train,val,test}.jsonl with each row's complexity score, the training target for the regression head."""
    processed.mkdir(parents=True, exist_ok=True)
    outputs = {}
    for name in SPLITS:
        out = processed / f"{name}.jsonl"
        write_jsonl(
            out,
            ({**row, "complexity_score": round(complexity_score(row["text"]), 6)} for row in splits[name]),
        )
        outputs[name] = out
    return outputs


def _stats(params: dict, shown: str, input_sha256: str, counts: dict, rejects: list[dict],
           splits: dict[str, list[dict]], augmentation: dict, outputs: dict[str, Path]) -> dict:
    """stats.json: counts per split, intent and level, rejects by reason, and hashes that pin the data version."""
    stats = {
        "input": {"file": shown, "sha256": input_sha256},
        "rows": counts,
        "rejected_by_reason": dict(Counter(_reason_kind(r["reason"]) for r in rejects).most_common()),
        "splits": {name: len(splits[name]) for name in SPLITS},
        "per_intent": {
            name: {intent: sum(r["intent"] == intent for r in splits[name]) for intent in params["intents"]}
            for name in SPLITS
        },
        "per_complexity": {
            name: {lv: sum(r["complexity"] == lv for r in splits[name]) for lv in params["complexity_levels"]}
            for name in SPLITS
        },
        "augmentation": augmentation,
        "outputs_sha256": {name: _sha256(path) for name, path in outputs.items()},
    }
    stats["data_hash"] = hashlib.sha256(
        "".join(stats["outputs_sha256"][name] for name in SPLITS).encode()
    ).hexdigest()
    return stats
