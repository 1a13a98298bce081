"""Live accuracy from labelled feedback: rolling accuracy per model version and A/B tests.

Feedback file (JSONL, one object per line), e.g. written by a labelling tool or a thumbs-up
endpoint of the backend:
    {"text": "...", "intent": "<true intent>", "model_version": "3", "predicted": "<served intent>",
     "ts": "2025-01-01T12:00:00Z"}
`text_hash` (model_src.prediction_log.text_hash, an HMAC under this machine's prediction-log key)
may replace `text` when prompts must not be stored; `ts` is optional (file order is time order then). Bad rows are returned as rejects
naming file, line and field, never dropped silently.

A/B: two versions judged on the same feedback. When both versions answered the same prompts
(same text hash) the test is paired, McNemar's on the prompts where exactly one version was
right (exact binomial below 25 such prompts); otherwise a two-proportion z-test on each
version's own rows.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scipy import stats

from model_src.prediction_log import text_hash
from pipeline.evaluation.documents import Block, write_documents

MCNEMAR_EXACT_BELOW = 25


@dataclass(frozen=True)
class Feedback:
    line: int
    text_hash: str
    intent: str
    predicted: str
    model_version: str
    ts: str | None
    text: str | None = None

    @property
    def correct(self) -> bool:
        return self.intent == self.predicted


def load_feedback(path: str | Path, intents: Sequence[str]) -> tuple[list[Feedback], list[dict[str, Any]]]:
    """Validated feedback rows (file order) and rejects {file, line, reason, raw}."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"feedback file not found: {path}")
    known = set(intents)
    rows: list[Feedback] = []
    rejects: list[dict[str, Any]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue

            def reject(reason: str, raw: str = line, lineno: int = lineno) -> None:
                rejects.append({"file": str(path), "line": lineno, "reason": reason, "raw": raw.strip()[:300]})

            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                reject(f"bad JSON: {exc.msg}")
                continue
            if not isinstance(rec, dict):
                reject(f"expected a JSON object, got {type(rec).__name__}")
                continue
            missing = [k for k in ("intent", "predicted", "model_version") if rec.get(k) in (None, "")]
            if not (rec.get("text") or rec.get("text_hash")):
                missing.insert(0, "text or text_hash")
            if missing:
                reject(f"missing field(s): {', '.join(missing)}")
                continue
            bad = [f"{k}={rec[k]!r}" for k in ("intent", "predicted") if rec[k] not in known]
            if bad:
                reject(f"unknown intent in {', '.join(bad)} (expected one of: {', '.join(intents)})")
                continue
            text = rec.get("text")
            if text is not None and not isinstance(text, str):
                reject(f"field 'text' must be a string, got {type(text).__name__}")
                continue
            rows.append(
                Feedback(
                    line=lineno,
                    text_hash=text_hash(text) if text else str(rec["text_hash"]),
                    intent=rec["intent"],
                    predicted=rec["predicted"],
                    model_version=str(rec["model_version"]),
                    ts=rec.get("ts"),
                    text=text,
                )
            )
    if any(r.ts for r in rows):
        rows.sort(key=lambda r: (r.ts or "", r.line))  # stable: rows without ts keep file order
    return rows, rejects


def wilson_interval(correct: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson score interval of a proportion (sane at 0, 1 and small n)."""
    if n == 0:
        return 0.0, 1.0
    p = correct / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def accuracy_by_version(rows: Sequence[Feedback], window: int) -> dict[str, dict[str, Any]]:
    """Per version: n, accuracy and 95 % CI overall and over the last `window` rows, and the
    rolling-accuracy series (accuracy of the `window` rows ending at each row)."""
    if window <= 0:
        raise ValueError(f"window must be > 0, got {window}")
    out: dict[str, dict[str, Any]] = {}
    for version in sorted({r.model_version for r in rows}):
        hits = [int(r.correct) for r in rows if r.model_version == version]
        rolling, running = [], 0
        for i, h in enumerate(hits):
            running += h - (hits[i - window] if i >= window else 0)
            rolling.append(running / min(i + 1, window))
        last = hits[-window:]
        out[version] = {
            "n": len(hits),
            "accuracy": sum(hits) / len(hits),
            "ci95": wilson_interval(sum(hits), len(hits)),
            "window": window,
            "window_n": len(last),
            "window_accuracy": sum(last) / len(last),
            "window_ci95": wilson_interval(sum(last), len(last)),
            "rolling": rolling,
        }
    return out


def mcnemar(only_a_right: int, only_b_right: int) -> tuple[float, float, str]:
    """McNemar's test on the discordant pairs: (statistic, p-value, method)."""
    n = only_a_right + only_b_right
    if n == 0:
        return 0.0, 1.0, "mcnemar (no discordant pairs)"
    if n < MCNEMAR_EXACT_BELOW:
        p = stats.binomtest(only_a_right, n, 0.5).pvalue
        return float(only_a_right), float(p), "mcnemar exact binomial"
    statistic = (abs(only_a_right - only_b_right) - 1) ** 2 / n
    return float(statistic), float(stats.chi2.sf(statistic, 1)), "mcnemar chi-square (continuity-corrected)"


def two_proportion_z(correct_a: int, n_a: int, correct_b: int, n_b: int) -> tuple[float, float]:
    """Two-sided pooled two-proportion z-test: (z, p-value); z > 0 when A is more accurate."""
    if n_a == 0 or n_b == 0:
        raise ValueError("two_proportion_z needs rows for both versions")
    pooled = (correct_a + correct_b) / (n_a + n_b)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    if se == 0:
        return 0.0, 1.0
    z = (correct_a / n_a - correct_b / n_b) / se
    return float(z), float(2 * stats.norm.sf(abs(z)))


def compare_versions(rows: Sequence[Feedback], version_a: str, version_b: str, alpha: float) -> dict[str, Any]:
    """A/B test of two versions on the feedback: paired McNemar when they share prompts."""
    rows_a = [r for r in rows if r.model_version == version_a]
    rows_b = [r for r in rows if r.model_version == version_b]
    a = {r.text_hash: r for r in rows_a}  # a prompt judged twice for one version: its latest feedback
    b = {r.text_hash: r for r in rows_b}
    if not a or not b:
        missing = [v for v, d in ((version_a, a), (version_b, b)) if not d]
        raise ValueError(f"no feedback for model version(s) {missing}")
    shared = sorted(a.keys() & b.keys())
    result: dict[str, Any] = {"version_a": version_a, "version_b": version_b, "alpha": alpha}
    if shared:
        both = sum(a[h].correct and b[h].correct for h in shared)
        only_a = sum(a[h].correct and not b[h].correct for h in shared)
        only_b = sum(b[h].correct and not a[h].correct for h in shared)
        statistic, p, method = mcnemar(only_a, only_b)
        result.update(
            paired=True, n=len(shared), method=method, statistic=statistic, p_value=p,
            accuracy_a=(both + only_a) / len(shared), accuracy_b=(both + only_b) / len(shared),
            only_a_right=only_a, only_b_right=only_b,
        )
    else:
        ka, kb = sum(r.correct for r in rows_a), sum(r.correct for r in rows_b)
        z, p = two_proportion_z(ka, len(rows_a), kb, len(rows_b))
        result.update(
            paired=False, n_a=len(rows_a), n_b=len(rows_b), method="two-proportion z-test", statistic=z,
            p_value=p, accuracy_a=ka / len(rows_a), accuracy_b=kb / len(rows_b),
        )
    significant = result["p_value"] < alpha
    result["significant"] = significant
    if not significant:
        result["verdict"] = f"no significant difference at alpha={alpha}"
    else:
        better = version_a if result["accuracy_a"] > result["accuracy_b"] else version_b
        result["verdict"] = f"version {better} is more accurate (p={result['p_value']:.3g} < {alpha})"
    return result


def repredict(rows: Sequence[Feedback], model_dirs: dict[str, Path]) -> list[Feedback]:
    """The feedback prompts answered again by each model: paired rows for an offline A/B test.

    Needs the raw text in the feedback; each returned row carries the true intent, the model
    key as model_version and that model's prediction.
    """
    from pipeline.modeling.predict import Predictor

    texts = [r for r in rows if r.text]
    if len(texts) < len(rows):
        raise ValueError(f"{len(rows) - len(texts)} feedback row(s) have only a text hash: re-predicting needs the text")
    unique = list({r.text_hash: r for r in texts}.values())
    out: list[Feedback] = []
    for version, model_dir in model_dirs.items():
        predictions = Predictor(model_dir).predict([r.text for r in unique])
        out.extend(
            Feedback(line=r.line, text_hash=r.text_hash, intent=r.intent, predicted=p["intent"],
                     model_version=version, ts=r.ts, text=r.text)
            for r, p in zip(unique, predictions, strict=True)
        )
    return out


def _plot(accuracy: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    for version, acc in accuracy.items():
        ax.plot(range(1, acc["n"] + 1), acc["rolling"], label=f"v{version} (n={acc['n']}, acc {acc['accuracy']:.3f})")
    ax.set_xlabel("feedback rows of the version (time order)")
    ax.set_ylabel(f"rolling accuracy (window {next(iter(accuracy.values()))['window']})")
    ax.set_ylim(0, 1.02)
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _prometheus(accuracy: dict, path: Path) -> None:
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()
    g_acc = Gauge("intent_live_accuracy", "Accuracy on labelled feedback over the rolling window",
                  ["model_version"], registry=registry)
    g_n = Gauge("intent_live_feedback_rows", "Labelled feedback rows", ["model_version"], registry=registry)
    for version, acc in accuracy.items():
        g_acc.labels(version).set(acc["window_accuracy"])
        g_n.labels(version).set(acc["n"])
    write_to_textfile(str(path), registry)


def feedback_blocks(accuracy: dict, ab: dict | None, rejects: list) -> list[Block]:
    """The report as blocks, rendered as Markdown and as a self-contained HTML page."""
    blocks = [
        Block("h", "Live accuracy from feedback", level=1),
        Block("table", headers=["version", "rows", "accuracy (95% CI)", "last window", "window accuracy (95% CI)"],
              rows=[[v, str(a["n"]), f"{a['accuracy']:.3f} ({a['ci95'][0]:.3f}-{a['ci95'][1]:.3f})", str(a["window_n"]),
                     f"{a['window_accuracy']:.3f} ({a['window_ci95'][0]:.3f}-{a['window_ci95'][1]:.3f})"]
                    for v, a in accuracy.items()]),
    ]
    if ab:
        blocks += [Block("h", "A/B test"), Block("table", headers=["item", "value"], rows=[
            ["versions", f"{ab['version_a']} vs {ab['version_b']}"],
            ["test", f"{ab['method']} ({'paired' if ab['paired'] else 'independent samples'}), p = {ab['p_value']:.3g}"],
            ["accuracy", f"{ab['accuracy_a']:.3f} vs {ab['accuracy_b']:.3f}"],
            ["verdict", ab["verdict"]],
        ])]
    if rejects:
        blocks += [Block("h", f"Rejected feedback rows ({len(rejects)})"),
                   Block("table", headers=["file", "line", "reason"],
                         rows=[[r["file"], str(r["line"]), r["reason"]] for r in rejects[:50]])]
    blocks.append(Block("img", "feedback_report.png", headers=["rolling accuracy"]))
    return blocks


def write_feedback_report(accuracy: dict, ab: dict | None, rejects: list, out_dir: Path) -> Path:
    """feedback_report.{json,md,html,png} and feedback.prom in out_dir; returns the Markdown path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    _plot(accuracy, out_dir / "feedback_report.png")
    _prometheus(accuracy, out_dir / "feedback.prom")
    write_documents(feedback_blocks(accuracy, ab, rejects), out_dir, "feedback_report", "Live accuracy from feedback")
    (out_dir / "feedback_report.json").write_text(
        json.dumps({"accuracy": accuracy, "ab": ab, "rejects": rejects}, indent=2), encoding="utf-8")
    return out_dir / "feedback_report.md"
