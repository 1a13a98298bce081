"""Evaluate a trained intent classifier: metrics, calibration, plots, error analysis, report.

    evaluate(EvalConfig(model_path="models/intent_classifier", output_dir=Path("evaluation_results")), params)

Steps: resolve the model (a directory or `models:/name@alias`), load the labelled sets (the
template test/val split or a user's file, plus the hand-written realistic sets), fit the
temperature on the val split, score every set with calibrated probabilities (and record the
uncalibrated figures next to them), time single-prompt latency, draw the plots, write
metrics.json / error_analysis.json / predictions_<set>.jsonl / report.md / report.html and log
it all to the model's MLflow run.
"""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from model_src.calibration import (
    CALIBRATION_FILE,
    apply_temperature,
    fit_temperature,
    load_temperature,
    save_temperature,
)
from pipeline.config import resolve_path
from pipeline.data.ingest import format_reject, load_labelled_file, write_jsonl
from pipeline.evaluation import metrics as M
from pipeline.evaluation import plots
from pipeline.evaluation.dvc_outputs import write_dvc_outputs
from pipeline.evaluation.error_analysis import analyse_errors
from pipeline.evaluation.report import write_report
from pipeline.progress import progress_bar

log = logging.getLogger(__name__)

WEIGHT_FILES = ("model.safetensors",)


@dataclass
class EvalConfig:
    model_path: str
    output_dir: Path
    data: Path | None = None  # a user's labelled file instead of the processed split
    split: str = "test"  # test | val: which processed split, when no --data
    calibrate: bool = True  # fit T on the val split (else use the stored calibration.json, if any)
    realistic: bool = False  # also evaluate the hand-written realistic test/dev sets
    strict: bool = False  # any bad row in an input file fails instead of being reported
    log_mlflow: bool = True
    latency_samples: int | None = None  # default params eval.latency_samples

    def __post_init__(self):
        if self.split not in ("test", "val"):
            raise ValueError(f"split must be 'test' or 'val', got {self.split!r}")
        self.output_dir = Path(self.output_dir)
        if self.data is not None:
            self.data = Path(self.data)


def resolve_model(uri: str, params: dict) -> tuple[Path, dict[str, Any]]:
    """A local model directory for a path or `models:/<name>@<alias>|/<version>`, and its provenance.

    Registry URIs are resolved and downloaded by pipeline.deploy.registry (MlflowClient alias lookup);
    the training run id comes from the directory's training_metrics.json in both cases.
    """
    from pipeline.deploy import registry

    match = registry.MODELS_URI_RE.match(uri)
    version = None
    if match and match["alias"]:
        version, path = registry.resolve_alias(match["alias"], params)
    elif match:
        version, path = match["version"], registry.download_version(match["version"], params)
    else:
        path = registry.resolve_model_path(uri if uri.startswith("models:/") else resolve_path(uri), params)
    registry.check_model_dir(Path(path), params)
    return Path(path), {"source": uri, "version": version, "run_id": _training_run_id(Path(path))}


def _training_run_id(model_dir: Path) -> str | None:
    path = model_dir / "training_metrics.json"
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("run_id")
    except (ValueError, AttributeError):
        return None


@dataclass
class EvalSet:
    name: str
    description: str
    path: Path
    rows: list[dict]
    rejects: list[dict]


def _load_set(name: str, description: str, path: Path, params: dict, strict: bool) -> EvalSet:
    rows, rejects = load_labelled_file(path, params, strict=strict)
    for r in rejects:
        log.warning("rejected row: %s", format_reject(r))
    if not rows:
        raise ValueError(f"{path}: no valid rows to evaluate ({len(rejects)} rejected)")
    return EvalSet(name, description, path, rows, rejects)


def load_eval_sets(cfg: EvalConfig, params: dict) -> list[EvalSet]:
    """The primary set (user file or processed split) first, then the realistic sets."""
    paths = params["paths"]
    if cfg.data is not None:
        sets = [_load_set(cfg.data.stem, f"your file {cfg.data.name}", cfg.data, params, cfg.strict)]
    else:
        split = resolve_path(paths["processed_dir"]) / f"{cfg.split}.jsonl"
        if not split.is_file():
            raise FileNotFoundError(f"{split} not found: run `make data` first, or pass --data FILE")
        sets = [_load_set(cfg.split, f"template {cfg.split} split", split, params, cfg.strict)]
    if cfg.realistic:
        for key, desc in (
            ("realistic_test", "hand-written, held out"),
            ("realistic_dev", "hand-written, dev"),
            ("realistic_multilingual", "hand-written, other languages, held out"),
        ):
            path = resolve_path(paths[key]) if paths.get(key) else None
            if key == "realistic_multilingual" and (path is None or not path.is_file()):
                continue  # optional: a user's params may not name one
            if not path.is_file():
                raise FileNotFoundError(f"{path} not found (params paths.{key}); needed by --realistic")
            sets.append(_load_set(key, desc, path, params, cfg.strict))
    return sets


def raw_scores(
    predictor, texts: list[str], batch_size: int = 64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Uncalibrated intent probabilities, complexity level probabilities and scores, batched.

    The Predictor divides logits by its stored temperature; it is set to 1 here so the same
    rows can be scored before and after calibration.
    """
    stored, predictor.temperature = predictor.temperature, 1.0
    probs, levels, scores = [], [], []
    try:
        for i in progress_bar(range(0, len(texts), batch_size), desc="scoring", unit="batch"):
            p, lv, sc = predictor.predict_proba(texts[i : i + batch_size])
            probs.append(np.asarray(p, dtype=np.float64))
            levels.append(np.asarray(lv, dtype=np.float64))
            scores.append(np.asarray(sc, dtype=np.float64))
    finally:
        predictor.temperature = stored
    return np.concatenate(probs), np.concatenate(levels), np.concatenate(scores)


def label_indices(rows: list[dict], labels: list[str], field: str, source: Path) -> np.ndarray:
    """Row labels as indices into the model's label list; a label the model lacks is an error."""
    unknown = sorted({r[field] for r in rows} - set(labels))
    if unknown:
        raise ValueError(f"{source}: {field} {unknown} not known to the model (its labels: {labels})")
    return np.array([labels.index(r[field]) for r in rows], dtype=int)


def score_targets(rows: list[dict]) -> np.ndarray:
    """Complexity score targets: the row's own score, else the heuristic training learns from."""
    from model_src.features import complexity_score

    return np.array([r.get("complexity_score", complexity_score(r["text"])) for r in rows], dtype=float)


def evaluate_set(s: EvalSet, predictor, params: dict, temperature: float) -> dict[str, Any]:
    """Every figure for one labelled set, plus its error analysis and per-row predictions."""
    from pipeline.evaluation.language import per_language_metrics

    intents, levels = predictor.intents, predictor.complexity_levels
    ev = params["eval"]
    texts = [r["text"] for r in s.rows]
    y = label_indices(s.rows, intents, "intent", s.path)
    raw, level_probs, score_pred = raw_scores(predictor, texts)
    probs = apply_temperature(raw, temperature, from_probs=True) if temperature != 1.0 else raw
    cls = M.classification_metrics(y, probs, intents, ece_bins=ev["ece_bins"], top_k=ev["top_k"])
    uncal = {
        "ece": M.expected_calibration_error(y, raw, ev["ece_bins"]),
        "nll": M.negative_log_likelihood(y, raw),
        "brier": M.brier_score(y, raw),
        "mean_confidence": float(raw.max(axis=1).mean()),
    }
    y_level = label_indices(s.rows, levels, "complexity", s.path)
    cplx = M.complexity_metrics(y_level, level_probs, score_targets(s.rows), score_pred, levels)
    level_hit = level_probs.argmax(axis=1) == y_level
    cplx["level_accuracy_per_intent"] = {
        intent: float(level_hit[y == k].mean()) for k, intent in enumerate(intents) if (y == k).any()
    }
    pred = probs.argmax(axis=1)
    errors = analyse_errors(
        texts,
        y,
        probs,
        intents,
        low_confidence=ev["low_confidence_threshold"],
        high_confidence=ev["high_confidence_threshold"],
        max_examples=ev["max_examples"],
    )
    predictions = [
        {
            "text": t,
            "intent": r["intent"],
            "predicted": intents[int(p)],
            "confidence": round(float(probs[i, p]), 4),
            "complexity": r["complexity"],
            "predicted_complexity": levels[int(level_probs[i].argmax())],
            "complexity_score": round(float(score_pred[i]), 4),
        }
        for i, (t, r, p) in enumerate(zip(texts, s.rows, pred, strict=True))
    ]
    from pipeline.evaluation.invariance import invariance_report

    return {
        "description": s.description,
        "path": str(s.path),
        "rejected_rows": len(s.rejects),
        "boundaries": boundary_accuracy(s.path, predictions),
        "invariance": invariance_report(texts, pred, predictor, params) if s.name.startswith("realistic") else None,
        "metrics": cls,
        "uncalibrated": uncal,
        "complexity": cplx,
        "per_language": per_language_metrics(texts, [intents[i] for i in y], [intents[int(p)] for p in pred]),
        "errors": errors,
        "_arrays": {"y": y, "probs": probs, "raw": raw},
        "_predictions": predictions,
    }


def boundary_accuracy(path: Path, predictions: list[dict]) -> dict[str, dict[str, float]]:
    """Accuracy on the rows a hand-written set tags with `"boundary": "a|b"` (params intent_boundaries)."""
    tags: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue  # the loader has reported it already
        if isinstance(row, dict) and row.get("boundary"):
            tags[row.get("text", "")] = row["boundary"]
    hits: dict[str, list[bool]] = {}
    for p in predictions:
        if p["text"] in tags:
            hits.setdefault(tags[p["text"]], []).append(p["predicted"] == p["intent"])
    return {b: {"n": len(h), "accuracy": sum(h) / len(h)} for b, h in sorted(hits.items())}


def measure_latency(predictor, texts: list[str], n: int, warmup: int = 5) -> dict[str, Any]:
    """Single-prompt latency, tokenizer included, one call per prompt as a client would send it.

    The load average goes into the result: on a shared box other processes inflate the figure.
    """
    import torch

    sample = texts[:n]
    for t in sample[:warmup]:
        predictor.predict([t])
    times = []
    for t in progress_bar(sample, desc="latency", unit="prompt"):
        start = time.perf_counter()
        predictor.predict([t])
        times.append(time.perf_counter() - start)
    return {
        **M.latency_summary(times),
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


def model_size(model_dir: Path) -> dict[str, float]:
    files = [p for p in model_dir.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    weights = sum(p.stat().st_size for p in files if p.name in WEIGHT_FILES)
    return {"total_mb": total / 1e6, "weights_mb": weights / 1e6, "files": len(files)}


def fit_calibration(cfg: EvalConfig, params: dict, predictor, model_dir: Path) -> dict[str, Any] | None:
    """Fit T on the processed val split and store it in the model dir; else reuse a stored T."""
    val_path = resolve_path(params["paths"]["processed_dir"]) / "val.jsonl"
    if cfg.calibrate and val_path.is_file():
        rows, _ = load_labelled_file(val_path, params, strict=cfg.strict)
        y = label_indices(rows, predictor.intents, "intent", val_path)
        raw, _, _ = raw_scores(predictor, [r["text"] for r in rows])
        t = fit_temperature(raw, y, from_probs=True)
        nll_before, nll_after = (
            M.negative_log_likelihood(y, raw),
            M.negative_log_likelihood(y, apply_temperature(raw, t, from_probs=True)),
        )
        save_temperature(
            model_dir, t, fitted_on=str(val_path), n=len(rows), nll_before=nll_before, nll_after=nll_after
        )
        log.info(
            "temperature %.3f fitted on %s (%d rows): val NLL %.4f -> %.4f",
            t,
            val_path,
            len(rows),
            nll_before,
            nll_after,
        )
        return {
            "temperature": t,
            "source": f"fitted on {val_path.name}, {len(rows)} rows",
            "path": str(model_dir / CALIBRATION_FILE),
        }
    if cfg.calibrate:
        log.warning("%s not found: cannot fit a temperature; using the stored one if any", val_path)
    if (model_dir / CALIBRATION_FILE).is_file():
        return {
            "temperature": load_temperature(model_dir),
            "source": f"stored {CALIBRATION_FILE}",
            "path": str(model_dir / CALIBRATION_FILE),
        }
    return None


def draw_plots(results: dict, labels: list[str], ece_bins: int, out: Path) -> dict[str, str]:
    """All PNGs into out/plots; returns key -> path relative to out."""
    made: dict[str, str] = {}
    plot_dir = out / "plots"
    for name, d in results["datasets"].items():
        arr = d["_arrays"]
        made[f"confusion_{name}"] = plots.confusion_matrix_plot(
            d["metrics"]["confusion_matrix"],
            labels,
            plot_dir / f"confusion_{name}.png",
            title=f"Confusion matrix, {name} (row-normalised)",
        )
        made[f"roc_{name}"] = plots.roc_curves_plot(
            arr["y"], arr["probs"], labels, plot_dir / f"roc_{name}.png", title=f"ROC one-vs-rest, {name}"
        )
        made[f"confidence_{name}"] = plots.confidence_histogram(
            arr["y"],
            arr["probs"],
            plot_dir / f"confidence_{name}.png",
            title=f"Confidence: correct vs wrong, {name}",
        )
        curves = {
            f"calibrated (ECE {d['metrics']['ece']:.3f})": M.reliability_bins(
                arr["y"], arr["probs"], ece_bins
            )
        }
        if results.get("calibration"):
            curves = {
                f"uncalibrated (ECE {d['uncalibrated']['ece']:.3f})": M.reliability_bins(
                    arr["y"], arr["raw"], ece_bins
                ),
                **curves,
            }
        made[f"reliability_{name}"] = plots.reliability_diagram(
            curves, plot_dir / f"reliability_{name}.png", title=f"Reliability diagram, {name}"
        )
    made["per_class_f1"] = plots.per_class_f1_plot(
        {n: d["metrics"]["per_class"] for n, d in results["datasets"].items()},
        labels,
        plot_dir / "per_class_f1.png",
    )
    return {k: str(Path(v).relative_to(out)) for k, v in made.items()}


def _flat_metrics(results: dict) -> dict[str, float]:
    """Scalar figures for MLflow: eval.<set>.<metric>."""
    out: dict[str, float] = {}
    for name, d in results["datasets"].items():
        m = d["metrics"]
        for key in (
            "accuracy",
            "f1_macro",
            "f1_weighted",
            "precision_macro",
            "recall_macro",
            "roc_auc_macro",
            "ece",
            "brier",
            "nll",
        ):
            if m.get(key) is not None:
                out[f"eval.{name}.{key}"] = m[key]
        for k, v in m["top_k_accuracy"].items():
            out[f"eval.{name}.top{k}_accuracy"] = v
        out[f"eval.{name}.ece_uncalibrated"] = d["uncalibrated"]["ece"]
        out[f"eval.{name}.nll_uncalibrated"] = d["uncalibrated"]["nll"]
        for kind, inv in (d.get("invariance") or {}).items():
            out[f"eval.{name}.invariance_{kind}"] = inv["unchanged"]
        for key in ("level_accuracy", "level_f1_macro", "score_mae"):
            if d["complexity"].get(key) is not None:
                out[f"eval.{name}.complexity_{key}"] = d["complexity"][key]
        for label, pc in m["per_class"].items():
            out[f"eval.{name}.f1.{label}"] = pc["f1"]
    if results.get("latency"):
        out["eval.latency_p50_ms"] = results["latency"]["p50_ms"]
        out["eval.latency_p95_ms"] = results["latency"]["p95_ms"]
    if results.get("model_size"):
        out["eval.model_size_mb"] = results["model_size"]["total_mb"]
    if results.get("calibration"):
        out["eval.temperature"] = results["calibration"]["temperature"]
    return out


def log_to_mlflow(results: dict, params: dict, out: Path) -> str:
    """Log to the model's training run when it is in this tracking store, else to a new run."""
    import mlflow

    from pipeline.modeling.tracking import setup_mlflow

    experiment_id = setup_mlflow(params)
    run_id = results["model"].get("run_id")
    run = None
    if run_id:
        try:
            run = mlflow.start_run(run_id=run_id)
        except Exception as exc:  # not in this store (model trained elsewhere): do not fail the evaluation
            log.warning(
                "training run %s not found in %s (%s): logging to a new run",
                run_id,
                mlflow.get_tracking_uri(),
                exc,
            )
    if run is None:
        run = mlflow.start_run(experiment_id=experiment_id, run_name="evaluation")
        mlflow.set_tag("evaluated_model", results["model"]["source"])
    # one folder per evaluation: a later run with other sets must not mix with this one's files
    artifact_path = "evaluation/" + datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    with run:
        mlflow.log_metrics(_flat_metrics(results))
        mlflow.log_artifacts(str(out), artifact_path=artifact_path)
        if results.get("calibration"):
            mlflow.log_artifact(results["calibration"]["path"], artifact_path=artifact_path)
        return run.info.run_id


def evaluate(cfg: EvalConfig, params: dict) -> dict[str, Any]:
    """Run the whole evaluation; returns the results written to metrics.json (plus run_id)."""
    from pipeline.modeling.predict import Predictor

    out = cfg.output_dir
    out.mkdir(parents=True, exist_ok=True)
    model_dir, model_info = resolve_model(cfg.model_path, params)
    sets = load_eval_sets(cfg, params)
    predictor = Predictor(model_dir)
    calibration = fit_calibration(cfg, params, predictor, model_dir)
    temperature = calibration["temperature"] if calibration else 1.0
    predictor.temperature = temperature  # latency and live examples see calibrated probabilities

    datasets = {}
    for s in sets:
        log.info("evaluating %s (%d rows, %d rejected) from %s", s.name, len(s.rows), len(s.rejects), s.path)
        datasets[s.name] = evaluate_set(s, predictor, params, temperature)
        if s.rejects:
            write_jsonl(out / f"rejected_{s.name}.jsonl", s.rejects)
    ev = params["eval"]
    headline = "realistic_test" if "realistic_test" in datasets else sets[0].name
    n_latency = cfg.latency_samples if cfg.latency_samples is not None else ev["latency_samples"]
    results: dict[str, Any] = {
        "created": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "model": {**model_info, "path": str(model_dir)},
        "headline": headline,
        "targets": ev.get("targets", {}),
        "calibration": calibration,
        "datasets": datasets,
        "latency": measure_latency(predictor, [r["text"] for r in sets[0].rows], n_latency)
        if n_latency > 0
        else None,
        "model_size": model_size(model_dir),
    }
    plot_files = draw_plots(results, predictor.intents, ev["ece_bins"], out)
    write_dvc_outputs(datasets, predictor.intents, ev["ece_bins"], out)
    write_report(results, plot_files, out)
    for name, d in datasets.items():
        write_jsonl(out / f"predictions_{name}.jsonl", d.pop("_predictions"))
        d.pop("_arrays")
    (out / "error_analysis.json").write_text(
        json.dumps({n: d["errors"] for n, d in datasets.items()}, indent=2, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    results["plots"] = plot_files
    (out / "metrics.json").write_text(json.dumps(_without_errors(results), indent=2) + "\n", encoding="utf-8")
    if cfg.log_mlflow:
        results["mlflow_run_id"] = log_to_mlflow(results, params, out)
    return results


def _without_errors(results: dict) -> dict:
    """metrics.json stays numbers only; the example prompts live in error_analysis.json."""
    return {
        **results,
        "datasets": {
            n: {k: v for k, v in d.items() if k != "errors"} for n, d in results["datasets"].items()
        },
    }


def configure_threads(params: dict) -> None:
    """Latency is reported for this many torch threads (params eval.num_threads)."""
    import torch

    torch.set_num_threads(int(params["eval"].get("num_threads", 2)))
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
