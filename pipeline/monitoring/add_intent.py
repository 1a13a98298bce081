"""Add an intent: grow the label list, grow the intent head keeping the old rows, fine-tune, measure.

    labelled rows of the new intent (and optionally more rows of old ones)
    -> params with the label appended (a copy for the run; params.yaml itself on request,
       edited in place so its comments survive)
    -> the new intent's rows split train/val/test with the project's split ratios; the old
       splits are kept as they are (old test rows stay frozen)
    -> fine-tune from the champion (run_training's init_model_dir, pipeline.modeling.warm_start): the old
       intent rows are copied by name, the new row starts fresh
    -> old intents' F1 on the frozen old test rows, champion vs new model: the run reports the
       largest drop against monitor.add_intent.max_old_f1_drop (2 points by default)
    -> the same comparison on the hand-written realistic test set (paths.realistic_test), reported
       only: people's prompts are what users judge, but 20 rows per intent make one error ~5 points.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from pathlib import Path
from typing import Any

import yaml

from pipeline.config import resolve_path
from pipeline.monitoring.retrain import build_data_dir, finetune_params, read_rows, resolve_champion, score

log = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{1,40}$")
MIN_ROWS = 10  # fewer rows cannot fill train, val and test of the new intent


def check_intent_name(name: str) -> str:
    """`name` if it is a valid intent name (it also names the run directory), else ValueError."""
    if not NAME_RE.match(name):
        raise ValueError(f"intent name {name!r}: use lower-case letters, digits and _ (like 'email_writing')")
    return name


def grown_params(params: dict, name: str, definition: str) -> dict:
    """A copy of params with `name` appended to intents, its definition and (empty) techniques."""
    check_intent_name(name)
    if name in params["intents"]:
        raise ValueError(f"intent {name!r} already exists in params intents")
    p = copy.deepcopy(params)
    p["intents"].append(name)
    p.setdefault("intent_definitions", {})[name] = definition
    p.setdefault("techniques", {})[name] = {level: [] for level in p["complexity_levels"]}
    return p


def _block_end(lines: list[str], key: str) -> int:
    """Index after the last line of the top-level block `key:` (indented, or a `- ` list item:
    yaml.safe_dump writes top-level lists unindented)."""
    start = next((i for i, line in enumerate(lines) if line.startswith(f"{key}:")), None)
    if start is None:
        raise ValueError(f"params file has no top-level '{key}:' block")
    end = start + 1
    for i in range(start + 1, len(lines)):
        if lines[i].startswith((" ", "\t", "- ")):
            end = i + 1
        elif lines[i].strip() and not lines[i].startswith("#"):
            break
    return end


def write_intent_into_params_file(path: Path, name: str, definition: str) -> None:
    """Append the intent to params.yaml in place (intents, intent_definitions, techniques),
    leaving every other line and comment as it was. The definition is operator text: it is
    written by YAML's safe dumper (quoted as needed), and the edited file must parse to exactly
    the old params plus this intent, or the file is left unchanged."""
    original = path.read_text(encoding="utf-8")
    expected = grown_params(yaml.safe_load(original), name, definition)
    lines = original.splitlines()
    last_item = lines[_block_end(lines, "intents") - 1]
    item_indent = last_item[: len(last_item) - len(last_item.lstrip())] if last_item.lstrip().startswith("- ") else "  "
    dumped = yaml.safe_dump({name: definition}, allow_unicode=True, width=100, default_flow_style=False)
    inserts = {
        "intents": [f"{item_indent}- {name}"],
        "intent_definitions": [f"  {line}" for line in dumped.splitlines()],
        "techniques": [f"  {name}:", *(f"    {level}: []" for level in expected["complexity_levels"])],
    }
    for key in sorted(inserts, key=lambda k: -_block_end(lines, k)):  # bottom-up keeps indices valid
        end = _block_end(lines, key)
        lines[end:end] = inserts[key]
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != expected:
        raise RuntimeError(f"editing {path} did not add {name!r} cleanly; file left unchanged")
    path.write_text(text, encoding="utf-8")


def compare_old_intents(champion_dir: Path, model_dir: Path, rows: list[dict], labels: list[str]) -> dict[str, Any]:
    """Per-old-intent F1 of champion vs grown model on the same rows, the largest drop, and how
    many rows the grown model gave to an intent the champion did not have."""
    before = score(champion_dir, rows, labels)
    after = score(model_dir, rows, labels)
    drops = {i: before["per_class"][i]["f1"] - after["per_class"][i]["f1"] for i in labels
             if before["per_class"][i]["support"]}
    worst = max(drops, key=drops.get)
    return {"champion": before, "new_model": after, "f1_drops": drops, "worst": worst, "worst_drop": drops[worst],
            "predicted_as_new_intent": sum(n for i, n in after["predicted_counts"].items() if i not in labels)}


def split_new_rows(rows: list[dict], name: str, params: dict) -> dict[str, list[dict]]:
    """New-intent rows dealt into train/val/test (seeded, project ratios); other rows to train."""
    from pipeline.data.split import split_ratios, stratified_split

    new = [r for r in rows if r["intent"] == name]
    if len(new) < MIN_ROWS:
        raise ValueError(f"only {len(new)} labelled rows of intent {name!r}; need at least {MIN_ROWS}")
    parts = stratified_split(new, split_ratios(params), int(params["seed"]), params["complexity_levels"])
    for split in ("val", "test"):
        if not parts[split]:  # tiny data: make sure the new intent is validated and tested
            parts[split].append(parts["train"].pop())
    parts["train"] += [r for r in rows if r["intent"] != name]
    return parts


def run_add_intent(
    params: dict,
    name: str,
    data_file: Path,
    out_dir: Path,
    *,
    definition: str | None = None,
    champion: str | None = None,
    params_file: Path | None = None,
    log_to_mlflow: bool = True,
) -> dict[str, Any]:
    """The whole flow (module docstring); returns the report also written to out_dir."""
    from pipeline.data.ingest import format_reject, load_labelled_file
    from pipeline.modeling.train import run_training

    definition = definition or f"Prompts labelled {name} (added with make add-intent; describe the rule here)."
    new_params = grown_params(params, name, definition)
    rows, rejects = load_labelled_file(data_file, new_params)
    for r in rejects:
        log.warning("rejected %s", format_reject(r))
    parts = split_new_rows(rows, name, new_params)
    champion_dir, champion_version = resolve_champion(params, champion)

    out_dir.mkdir(parents=True, exist_ok=True)
    base = resolve_path(params["paths"]["processed_dir"])
    data_dir = build_data_dir(base, out_dir / "data", parts)
    run_params = finetune_params(new_params, champion_dir, data_dir, params["monitor"]["retrain"]["epochs"],
                                 params["monitor"]["retrain"]["learning_rate"], intents=new_params["intents"])
    (out_dir / "params.yaml").write_text(yaml.safe_dump(new_params, sort_keys=False), encoding="utf-8")
    result = run_training(run_params, output_dir=out_dir / "model", log_to_mlflow=log_to_mlflow,
                          init_model_dir=champion_dir)
    model_dir = Path(result["model_dir"])

    labels = list(params["intents"])
    old = compare_old_intents(champion_dir, model_dir, read_rows(base / "test.jsonl"), labels)
    limit = float(params["monitor"]["add_intent"]["max_old_f1_drop"])
    realistic_path = resolve_path(params["paths"].get("realistic_test") or "eval_sets/realistic_test.jsonl")
    realistic = None
    if realistic_path.is_file():
        realistic = {"file": str(realistic_path),
                     **compare_old_intents(champion_dir, model_dir, read_rows(realistic_path), labels)}
    else:
        log.warning("realistic test set %s not found: old intents measured on the frozen test split only", realistic_path)
    new_test = score(model_dir, read_rows(data_dir / "test.jsonl"), new_params["intents"])
    if params_file is not None:
        write_intent_into_params_file(params_file, name, definition)
    report = {
        "intent": name, "rows": len(rows), "rejects": rejects,
        "new_intent_rows": {s: sum(r["intent"] == name for r in parts[s]) for s in parts},
        "champion_dir": str(champion_dir), "champion_version": champion_version, "model_dir": str(model_dir),
        "params_copy": str(out_dir / "params.yaml"), "params_file_updated": str(params_file) if params_file else None,
        "old_intents": {**old, "max_allowed_drop": limit, "within_limit": old["worst_drop"] <= limit},
        "old_intents_realistic": realistic,
        "new_intent_f1": new_test["per_class"][name]["f1"], "new_intent_test_support": new_test["per_class"][name]["support"],
        "all_intents_test": {k: new_test[k] for k in ("n", "accuracy", "f1_weighted")},
        "training": {k: result.get(k) for k in ("best_val_f1", "epochs_run", "train_seconds", "process_cpu_seconds",
                                                "load_average")},
    }
    (out_dir / "add_intent_report.json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    return report
