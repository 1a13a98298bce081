"""Drift between the training reference and the logged live predictions.

Reference = rows of the training distribution (params monitor.reference_data) with the
served model's predictions on them; current = the newest logged predictions of one model
version. Checks:
- data drift, per numeric feature (model_src.features) and prompt length: PSI on the
  reference's quantile bins and the two-sample KS test;
- output drift: chi-square test and Jensen-Shannon distance on the predicted-intent
  distribution; PSI + KS on the confidence and predicted complexity-score distributions.
A check alarms only when the shift is both significant (p below alpha, Bonferroni-corrected
over the KS tests) and material (PSI or JS distance above its threshold): large windows
make trivial shifts significant, small windows make noise look large; each alone alarms
too often on same-distribution traffic (the false-positive rates are measured, see README).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

from model_src.prediction_log import FLOAT_DIGITS

LENGTH = "text_chars"
CONFIDENCE = "confidence"
COMPLEXITY_SCORE = "complexity_score"
OUTPUT_NUMERIC = (CONFIDENCE, COMPLEXITY_SCORE)


@dataclass(frozen=True)
class Thresholds:
    psi: float
    ks_alpha: float
    chi2_alpha: float
    js_distance: float
    bins: int = 10

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> Thresholds:
        m = params["monitor"]
        t = m["thresholds"]
        return cls(float(t["psi"]), float(t["ks_alpha"]), float(t["chi2_alpha"]), float(t["js_distance"]), int(m["psi_bins"]))


@dataclass
class Snapshot:
    """Numeric columns (features, length, confidence, complexity score) and predicted intents."""

    numeric: dict[str, np.ndarray]
    intents: list[str]
    meta: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.intents)

    def to_json(self) -> dict[str, Any]:
        return {
            "meta": self.meta,
            "intents": self.intents,
            "numeric": {k: [round(float(x), 6) for x in v] for k, v in self.numeric.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        numeric = {k: np.asarray(v, dtype=np.float64) for k, v in data["numeric"].items()}
        return cls(numeric=numeric, intents=list(data["intents"]), meta=dict(data.get("meta", {})))


# ---------------------------------------------------------------- statistics


def psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """Population stability index on the reference's quantile bins.

    Ties (count features) merge quantile edges, so discrete features get fewer bins; values
    below the reference minimum or above its maximum fall in bins of their own; bins empty on
    both sides are dropped, others get half a count so an empty bin is finite.
    """
    reference = np.asarray(reference, dtype=np.float64)
    current = np.asarray(current, dtype=np.float64)
    if len(reference) == 0 or len(current) == 0:
        raise ValueError("psi needs non-empty reference and current samples")
    inner = np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1])
    # Bins are (e[i-1], e[i]]; the outer edges give values outside the reference range their own bins.
    edges = np.unique(np.concatenate([[np.nextafter(reference.min(), -np.inf)], inner, [reference.max()]]))
    ref_counts = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=len(edges) + 1)
    cur_counts = np.bincount(np.searchsorted(edges, current, side="left"), minlength=len(edges) + 1)
    keep = (ref_counts + cur_counts) > 0
    p = (ref_counts[keep] + 0.5) / (ref_counts.sum() + 0.5 * keep.sum())
    q = (cur_counts[keep] + 0.5) / (cur_counts.sum() + 0.5 * keep.sum())
    return float(np.sum((q - p) * np.log(q / p)))


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Two-sample Kolmogorov-Smirnov statistic and p-value."""
    res = stats.ks_2samp(reference, current)
    return float(res.statistic), float(res.pvalue)


def category_counts(labels: Iterable[str], categories: Sequence[str]) -> np.ndarray:
    """Counts per category in `categories` order; an unknown label raises (a schema change)."""
    index = {c: i for i, c in enumerate(categories)}
    counts = np.zeros(len(categories), dtype=np.int64)
    for label in labels:
        if label not in index:
            raise ValueError(f"unknown intent {label!r}; expected one of {list(categories)}")
        counts[index[label]] += 1
    return counts


def chi2_test(ref_counts: np.ndarray, cur_counts: np.ndarray) -> tuple[float, float]:
    """Chi-square test of homogeneity of two count vectors (categories empty in both dropped)."""
    table = np.vstack([ref_counts, cur_counts])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    res = stats.chi2_contingency(table, correction=False)
    return float(res.statistic), float(res.pvalue)


def js_distance(ref_counts: np.ndarray, cur_counts: np.ndarray) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) between two count vectors."""
    return float(jensenshannon(ref_counts / ref_counts.sum(), cur_counts / cur_counts.sum(), base=2))


# ---------------------------------------------------------------- snapshots


def snapshot_from_predictions(
    texts: Sequence[str], predictions: Sequence[dict[str, Any]], meta: dict[str, Any] | None = None
) -> Snapshot:
    """Snapshot of texts and their Predictor outputs (the reference, or a simulated stream)."""
    from model_src.features import FEATURE_NAMES, extract_features

    feats = extract_features(list(texts)) if len(texts) else np.zeros((0, len(FEATURE_NAMES)), np.float32)
    numeric = {name: feats[:, j].astype(np.float64) for j, name in enumerate(FEATURE_NAMES)}
    numeric[LENGTH] = np.array([len(t) for t in texts], dtype=np.float64)
    numeric[CONFIDENCE] = np.array([p["confidence"] for p in predictions], dtype=np.float64)
    numeric[COMPLEXITY_SCORE] = np.array([p["complexity"]["score"] for p in predictions], dtype=np.float64)
    # the same precision as the prediction log: else a logged 0.1772 and a computed 0.17718 land in
    # different quantile bins and every discrete feature "drifts"
    numeric = {k: np.round(v, FLOAT_DIGITS) for k, v in numeric.items()}
    return Snapshot(numeric=numeric, intents=[p["intent"] for p in predictions], meta=dict(meta or {}))


def snapshot_from_log(records: Sequence[dict[str, Any]], feature_names: Sequence[str]) -> Snapshot:
    """Snapshot of prediction-log records; a feature is used only when every record has it.

    Features come from the record (the handler logs them) or, failing that, from the raw
    text when the log keeps it; otherwise only length and the outputs are compared.
    """
    if not records:
        return Snapshot(numeric={}, intents=[])
    numeric: dict[str, np.ndarray] = {}
    if all("features" in r for r in records):
        for name in feature_names:
            if all(name in r["features"] for r in records):
                numeric[name] = np.array([r["features"][name] for r in records], dtype=np.float64)
    elif all("text" in r for r in records):
        from model_src.features import FEATURE_NAMES, extract_features

        feats = extract_features([r["text"] for r in records])
        numeric = {n: np.round(feats[:, j].astype(np.float64), FLOAT_DIGITS)
                   for j, n in enumerate(FEATURE_NAMES) if n in feature_names}
    if all(LENGTH in r for r in records):
        numeric[LENGTH] = np.array([r[LENGTH] for r in records], dtype=np.float64)
    numeric[CONFIDENCE] = np.array([r["confidence"] for r in records], dtype=np.float64)
    if all("complexity" in r for r in records):
        numeric[COMPLEXITY_SCORE] = np.array([r["complexity"]["score"] for r in records], dtype=np.float64)
    return Snapshot(numeric=numeric, intents=[r["intent"] for r in records])


def select_window(
    records: Iterable[dict[str, Any]], max_records: int, model_version: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """The newest `max_records` records of one model version (default: the most logged one)."""
    records = list(records)
    for i, r in enumerate(records):
        missing = [k for k in ("ts", "model_version", "intent", "confidence") if k not in r]
        if missing:
            raise ValueError(f"prediction log record {i + 1} lacks {missing}")
    if model_version is None and records:
        versions: dict[str, int] = {}
        for r in records:
            versions[str(r["model_version"])] = versions.get(str(r["model_version"]), 0) + 1
        model_version = max(versions, key=versions.get)
    chosen = sorted((r for r in records if str(r["model_version"]) == model_version), key=lambda r: r["ts"])
    return chosen[-max_records:], model_version


# ---------------------------------------------------------------- comparison


def compare(reference: Snapshot, current: Snapshot, intents: Sequence[str], th: Thresholds) -> dict[str, Any]:
    """Every check of current against reference, with the overall verdict."""
    names = [n for n in reference.numeric if n in current.numeric and len(current.numeric[n])]
    alpha = th.ks_alpha / max(1, len(names))  # Bonferroni over the KS tests
    numeric = []
    for name in names:
        ref, cur = reference.numeric[name], current.numeric[name]
        value = psi(ref, cur, th.bins)
        ks_stat, ks_p = ks_test(ref, cur)
        numeric.append(
            {
                "name": name,
                "kind": "output" if name in OUTPUT_NUMERIC else "data",
                "psi": value,
                "ks_statistic": ks_stat,
                "ks_pvalue": ks_p,
                "reference_mean": float(np.mean(ref)),
                "current_mean": float(np.mean(cur)),
                "drift": bool(value >= th.psi and ks_p < alpha),
            }
        )
    ref_counts = category_counts(reference.intents, intents)
    cur_counts = category_counts(current.intents, intents)
    chi2, chi2_p = chi2_test(ref_counts, cur_counts)
    js = js_distance(ref_counts, cur_counts)
    intent = {
        "chi2": chi2,
        "chi2_pvalue": chi2_p,
        "js_distance": js,
        "reference_share": dict(zip(intents, (ref_counts / ref_counts.sum()).tolist(), strict=True)),
        "current_share": dict(zip(intents, (cur_counts / cur_counts.sum()).tolist(), strict=True)),
        "drift": bool(chi2_p < th.chi2_alpha and js >= th.js_distance),
    }
    data_drift = any(c["drift"] for c in numeric if c["kind"] == "data")
    output_drift = intent["drift"] or any(c["drift"] for c in numeric if c["kind"] == "output")
    return {
        "n_reference": len(reference),
        "n_current": len(current),
        "ks_alpha_corrected": alpha,
        "thresholds": th.__dict__,
        "numeric": numeric,
        "intent": intent,
        "data_drift": data_drift,
        "output_drift": output_drift,
        "drift": data_drift or output_drift,
    }


# ---------------------------------------------------------------- reference


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()[:16]


def model_digest(model_dir: Path) -> str:
    """Identifies a model directory by its weights and calibration (a retrain changes it)."""
    h = hashlib.sha256()
    for name in ("model.safetensors", "model_config.json", "calibration.json"):
        f = model_dir / name
        if f.is_file():
            h.update(name.encode())
            h.update(file_digest(f).encode())
    return h.hexdigest()[:16]


def build_reference(data_path: Path, model_dir: Path, params: dict[str, Any], max_rows: int, seed: int = 0) -> Snapshot:
    """Predict a seeded sample of the reference rows with the model; features from the texts."""
    from pipeline.modeling.predict import Predictor

    rows = [json.loads(line) for line in data_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        raise ValueError(f"{data_path}: no rows to build the drift reference from")
    if len(rows) > max_rows:
        pick = np.random.default_rng(seed).choice(len(rows), size=max_rows, replace=False)
        rows = [rows[i] for i in sorted(pick)]
    texts = [r["text"] for r in rows]
    predictions = Predictor(model_dir).predict(texts)
    meta = {
        "data": str(data_path),
        "data_digest": file_digest(data_path),
        "model_dir": str(model_dir),
        "model_digest": model_digest(model_dir),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
    }
    return snapshot_from_predictions(texts, predictions, meta)


def load_or_build_reference(
    cache: Path, data_path: Path, model_dir: Path, params: dict[str, Any], rebuild: bool = False
) -> Snapshot:
    """The cached reference, rebuilt when the data or the model changed (or when asked)."""
    if cache.is_file() and not rebuild:
        ref = Snapshot.from_json(json.loads(cache.read_text(encoding="utf-8")))
        if ref.meta.get("data_digest") == file_digest(data_path) and ref.meta.get("model_digest") == model_digest(model_dir):
            return ref
    ref = build_reference(data_path, model_dir, params, int(params["monitor"]["reference_max_rows"]), params.get("seed", 0))
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(ref.to_json()), encoding="utf-8")
    return ref
