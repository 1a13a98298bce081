"""report.md and a self-contained report.html from the evaluation results.

The report is built once as a list of blocks (pipeline/evaluation/documents.py) and rendered
twice: Markdown that links the PNGs next to it, and HTML that embeds them as base64 so the file
can be mailed or attached to an MLflow run on its own. Order follows what a reader
asks first: how good on realistic prompts, is it calibrated, how fast, where does it fail.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.evaluation.documents import Block, write_documents

SHOWN_ROWS = 5  # rows per error list in the report; error_analysis.json has the full lists
TEXT_CHARS = 140  # prompts are cut for the tables, full text in error_analysis.json


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f} %"


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_CHARS else text[: TEXT_CHARS - 1] + "…"


def _headline_table(results: dict) -> Block:
    sets = results["datasets"]
    names = list(sets)
    targets = results.get("targets", {})

    def row(label, get, fmt=_fmt, target_key=None):
        cells = [label] + [fmt(get(sets[n])) for n in names]
        if targets:
            cells.append(f">= {fmt(targets[target_key])}" if target_key in targets else "")
        return cells

    rows = [
        row("rows", lambda d: d["metrics"]["n"]),
        row("accuracy", lambda d: d["metrics"]["accuracy"], _pct, "accuracy"),
        row("F1 weighted", lambda d: d["metrics"]["f1_weighted"], target_key="f1_weighted"),
        row("F1 macro", lambda d: d["metrics"]["f1_macro"]),
        row(
            "precision / recall macro",
            lambda d: f"{d['metrics']['precision_macro']:.3f} / {d['metrics']['recall_macro']:.3f}",
        ),
        row(
            "top-2 / top-3 accuracy",
            lambda d: " / ".join(_pct(d["metrics"]["top_k_accuracy"].get(k)) for k in ("2", "3")),
        ),
        row("ROC-AUC macro (OvR)", lambda d: d["metrics"]["roc_auc_macro"]),
        row("ECE (calibrated)", lambda d: d["metrics"]["ece"]),
        row("Brier / NLL", lambda d: f"{d['metrics']['brier']:.3f} / {d['metrics']['nll']:.3f}"),
        row("intent unchanged by seen style modifiers", lambda d: _invariance(d, "seen"), _pct),
        row("intent unchanged by held-out style modifiers", lambda d: _invariance(d, "held_out"), _pct,
            "invariance_held_out"),
        row("complexity level accuracy", lambda d: d["complexity"]["level_accuracy"], _pct,
            "complexity_level_accuracy"),
        row("complexity within one level", lambda d: d["complexity"].get("level_within_one"), _pct),
        row("complexity level F1 macro", lambda d: d["complexity"]["level_f1_macro"]),
        row("complexity score MAE", lambda d: d["complexity"]["score_mae"]),
    ]
    headers = ["metric"] + [f"{n} ({sets[n]['description']})" for n in names]
    if targets:
        headers.append("target")
    return Block("table", headers=headers, rows=rows)


def _invariance(d: dict, kind: str) -> float | None:
    return (d.get("invariance") or {}).get(kind, {}).get("unchanged")


def _invariance_and_complexity_blocks(results: dict) -> list[Block]:
    """Which answer-style words still move the intent, and where the complexity level goes wrong."""
    sets = {n: d for n, d in results["datasets"].items() if d.get("invariance")}
    if not sets:
        return []
    b = [Block("h", "Invariance to answer-style words"),
         Block("p", "Each prompt with each modifier (\"{p} Step by step, please.\", \"Hey, {p}\"): the share of "
                    "predicted intents that did not change. Held-out modifiers never appear in training.")]
    rows = []
    for name, d in sets.items():
        for kind, inv in d["invariance"].items():
            worst = "; ".join(f"`{m}` {_pct(v)}" for m, v in list(inv["worst_modifiers"].items())[:3])
            flips = "; ".join(f"{k} ({v})" for k, v in list(inv["flips"].items())[:3])
            rows.append([name, kind, _pct(inv["unchanged"]), str(inv["pairs"]), worst, flips])
    b.append(Block("table", headers=["set", "modifiers", "unchanged", "pairs", "worst modifiers", "most common flips"],
                   rows=rows))
    tagged = {n: d["boundaries"] for n, d in sets.items() if d.get("boundaries")}
    if tagged:
        b.append(Block("h", "Intent boundaries (params.yaml intent_boundaries)"))
        names = sorted({k for t in tagged.values() for k in t})
        b.append(Block("table", headers=["boundary"] + [f"{n} accuracy (rows)" for n in tagged],
                       rows=[[k] + [f"{_pct(t[k]['accuracy'])} ({t[k]['n']})" if k in t else "" for t in tagged.values()]
                             for k in names]))
    levels = list(next(iter(sets.values()))["complexity"]["level_support"])
    b.append(Block("h", "Complexity level"))
    for name, d in sets.items():
        c = d["complexity"]
        b.append(Block("p", f"**{name}**: exact {_pct(c['level_accuracy'])}, within one level "
                            f"{_pct(c.get('level_within_one'))}. Rows: labelled level, columns: predicted."))
        matrix = c.get("level_confusion_matrix") or []
        b.append(Block("table", headers=["labelled \\ predicted"] + levels,
                       rows=[[levels[i]] + [str(v) for v in r] for i, r in enumerate(matrix)]))
        per_intent = c.get("level_accuracy_per_intent") or {}
        if per_intent:
            b.append(Block("table", headers=["intent", "level accuracy"],
                           rows=[[k, _pct(v)] for k, v in sorted(per_intent.items(), key=lambda kv: kv[1])]))
    return b


def build_blocks(results: dict, plots: dict[str, str]) -> list[Block]:
    """The report's content, independent of the output format, one section after the other."""
    blocks = _summary_blocks(results)
    blocks += _calibration_blocks(results, plots)
    blocks += _speed_blocks(results)
    blocks += _per_intent_blocks(results, plots)
    blocks += _invariance_and_complexity_blocks(results)
    for name in results["datasets"]:
        blocks += _dataset_blocks(name, results, plots)
    return blocks


def _summary_blocks(results: dict) -> list[Block]:
    """Title, what was evaluated, and the headline figures per set: the answer most readers stop at."""
    sets = results["datasets"]
    headline = results["headline"]
    hm = sets[headline]["metrics"]
    model = results["model"]
    b: list[Block] = [Block("h", "Intent classifier evaluation", level=1)]
    b.append(
        Block(
            "p",
            f"Model: `{model['source']}`"
            + (f" (registry version {model['version']})" if model.get("version") else "")
            + f". Evaluated {results['created']}. Headline set: **{headline}** "
            f"({sets[headline]['description']}): accuracy **{_pct(hm['accuracy'])}**, "
            f"weighted F1 **{hm['f1_weighted']:.3f}** on {hm['n']} prompts.",
        )
    )
    b.append(Block("h", "Summary"))
    b.append(_headline_table(results))
    if len(sets) > 1:
        b.append(
            Block(
                "p",
                "The template split comes from the same generator as the training data; the realistic sets are "
                "hand-written prompts the model never trained on. The gap between them is the honest measure.",
            )
        )
    return b


def _calibration_blocks(results: dict, plots: dict[str, str]) -> list[Block]:
    """The temperature and what it did to ECE / NLL / Brier: can the probabilities be trusted as such."""
    sets = results["datasets"]
    headline = results["headline"]
    cal = results.get("calibration")
    b = [Block("h", "Calibration")]
    if cal and cal.get("temperature") is not None:
        b.append(
            Block(
                "p",
                f"Temperature T = {cal['temperature']:.3f} ({cal['source']}). "
                "Probabilities everywhere (Predictor, TorchServe) are softmax(logits / T); the argmax is unchanged.",
            )
        )
        b.append(
            Block(
                "table",
                headers=[
                    "set",
                    "ECE before",
                    "ECE after",
                    "NLL before",
                    "NLL after",
                    "Brier before",
                    "Brier after",
                ],
                rows=[
                    [n]
                    + [
                        _fmt(v)
                        for k in ("ece", "nll", "brier")
                        for v in (d["uncalibrated"][k], d["metrics"][k])
                    ]
                    for n, d in sets.items()
                ],
            )
        )
    else:
        b.append(
            Block("p", "No temperature scaling applied (run with --calibrate to fit T on the val split).")
        )
    if f"reliability_{headline}" in plots:
        b.append(Block("img", plots[f"reliability_{headline}"], headers=[f"Reliability diagram, {headline}"]))
    return b


def _speed_blocks(results: dict) -> list[Block]:
    """Latency, throughput and size, with the conditions they were measured under (a shared box)."""
    lat, size = results.get("latency"), results.get("model_size")
    rows = []
    if lat:
        rows += [
            ["latency p50 / p95 per prompt", f"{lat['p50_ms']:.1f} / {lat['p95_ms']:.1f} ms"],
            ["throughput one by one", f"{lat['prompts_per_second']:.0f} prompts/s"],
            [
                "measured on",
                f"{lat['n']} prompts, one at a time, tokenizer included, {lat['device']}, {lat['threads']} threads, "
                f"load average {lat.get('load_average_1m', 'n/a')} (other processes inflate it)",
            ],
        ]
    if size:
        rows += [
            ["model directory on disk", f"{size['total_mb']:.1f} MB (weights {size['weights_mb']:.1f} MB)"]
        ]
    table = Block("table", headers=["measure", "value"], rows=rows) if rows else Block("p", "Not measured.")
    return [Block("h", "Speed and size"), table]


def _per_intent_blocks(results: dict, plots: dict[str, str]) -> list[Block]:
    """Precision / recall / F1 of every intent on every set: which intents carry the averages."""
    sets = results["datasets"]
    b = [Block("h", "Per intent")]
    if "per_class_f1" in plots:
        b.append(Block("img", plots["per_class_f1"], headers=["F1 per intent"]))
    labels = list(next(iter(sets.values()))["metrics"]["per_class"])
    b.append(
        Block(
            "table",
            headers=["intent"] + [f"{n} P / R / F1 (n)" for n in sets],
            rows=[
                [lbl]
                + [
                    "{precision:.2f} / {recall:.2f} / {f1:.2f} ({support})".format(
                        **d["metrics"]["per_class"][lbl]
                    )
                    for d in sets.values()
                ]
                for lbl in labels
            ],
        )
    )
    return b


def _dataset_blocks(name: str, results: dict, plots: dict[str, str]) -> list[Block]:
    """One set's plots, languages and errors, folded away (details) as most readers skip them."""
    d = results["datasets"][name]
    b = [Block("details_start", f"{name}: plots and error analysis ({d['description']})")]
    if d["rejected_rows"]:
        b.append(
            Block(
                "p",
                f"{d['rejected_rows']} row(s) of {d['path']} failed validation: see rejected_{name}.jsonl.",
            )
        )
    for key, caption in (
        ("confusion", "Normalised confusion matrix"),
        ("roc", "ROC curves one-vs-rest"),
        ("confidence", "Confidence of correct vs wrong predictions"),
        ("reliability", "Reliability diagram"),
    ):
        if f"{key}_{name}" in plots and not (key == "reliability" and name == results["headline"]):
            b.append(Block("img", plots[f"{key}_{name}"], headers=[f"{caption}, {name}"]))
    if len(d.get("per_language", {})) > 1:
        b.append(Block("h", "Per language (detected)", level=3))
        b.append(
            Block(
                "table",
                headers=["language", "rows", "accuracy", "F1 weighted"],
                rows=[
                    [lang, str(v["n"]), _pct(v["accuracy"]), _fmt(v["weighted_f1"])]
                    for lang, v in d["per_language"].items()
                ],
            )
        )
    b.extend(_error_blocks(d["errors"]))
    b.append(Block("details_end"))
    return b


def _error_blocks(ea: dict) -> list[Block]:
    th = ea["thresholds"]
    out = [
        Block(
            "p",
            f"{ea['n_errors']} of {ea['n']} wrong; {ea['n_high_confidence_errors']} wrong with confidence >= "
            f"{th['high_confidence']}; {ea['n_low_confidence_correct']} right with confidence < {th['low_confidence']}.",
        )
    ]

    def examples_table(title: str, rows: list[dict]) -> None:
        out.append(Block("h", title, level=3))
        if not rows:
            out.append(Block("p", "None."))
            return
        out.append(
            Block(
                "table",
                headers=["prompt", "true", "predicted", "confidence"],
                rows=[
                    [_short(r["text"]), r["true"], r["predicted"], f"{r['confidence']:.2f}"]
                    for r in rows[:SHOWN_ROWS]
                ],
            )
        )

    out.append(Block("h", "Most frequent confusions", level=3))
    if ea["confusion_pairs"]:
        out.append(
            Block(
                "table",
                headers=["true -> predicted", "count", "example"],
                rows=[
                    [f"{p['true']} -> {p['predicted']}", str(p["count"]), _short(p["examples"][0]["text"])]
                    for p in ea["confusion_pairs"][:SHOWN_ROWS]
                ],
            )
        )
    else:
        out.append(Block("p", "None."))
    examples_table("High-confidence errors", ea["high_confidence_errors"])
    examples_table("Misclassified (most confident first)", ea["misclassified"])
    examples_table("Low-confidence correct predictions", ea["low_confidence_correct"])
    out.append(Block("h", "Per intent", level=3))
    out.append(
        Block(
            "table",
            headers=["intent", "correct / n", "mostly confused with"],
            rows=[
                [
                    name,
                    f"{c['correct']} / {c['support']}",
                    ", ".join(f"{x['intent']} ({x['count']})" for x in c["confused_with"]) or "-",
                ]
                for name, c in ea["per_class"].items()
            ],
        )
    )
    return out


def write_report(results: dict, plots: dict[str, str], output_dir: str | Path) -> tuple[Path, Path]:
    """Write report.md and report.html into output_dir; plots are file names relative to it."""
    output_dir = Path(output_dir)
    blocks = build_blocks(results, plots)
    return write_documents(blocks, output_dir, "report", "Intent classifier evaluation")
