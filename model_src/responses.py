"""The answer object of a prediction and the settings that shape it, shared by every way the model
answers: the TorchServe handler, batch prediction of files and the MLflow pyfunc.

Why here: all three must return the same object ("The answer" in docs/architecture.md), so they
build it with the same functions instead of copies kept in step; model_src is what the archive and
the pyfunc pack whole, so none of them imports the handler module or `pipeline`.
"""

from __future__ import annotations

import os

import numpy as np


def error_body(message: str, code: int = 400) -> dict:
    return {"error": message, "code": code}


def check_text(text, max_chars: int, where: str = "text") -> tuple[str | None, str | None]:
    """(trimmed text, None) or (None, reason): 1..max_chars characters after trimming."""
    if not isinstance(text, str):
        return None, f"'{where}' must be a string, got {type(text).__name__}"
    try:  # JSON escapes can carry lone surrogates ("\ud800"): not text, and the tokenizer raises on them
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        return None, f"'{where}' contains an unpaired surrogate at character {exc.start}"
    text = text.strip()
    if not text:
        return None, f"'{where}' is empty after trimming whitespace"
    if len(text) > max_chars:
        return None, f"'{where}' has {len(text)} characters, the limit is {max_chars}"
    return text, None


def build_prediction(
    probs: np.ndarray,
    level_probs: np.ndarray,
    score: float,
    *,
    intents: list[str],
    levels: list[str],
    techniques: dict,
    model_version: str,
    top_k: int = 3,
    low_confidence_threshold: float | None = None,
) -> dict:
    """The response object of one prediction (docs/architecture.md, "The answer")."""
    best = int(np.argmax(probs))
    intent, level = intents[best], levels[int(np.argmax(level_probs))]
    order = np.argsort(-probs)[:top_k]
    out = {
        "intent": intent,
        "confidence": round(float(probs[best]), 6),
        "complexity": {"level": level, "score": round(float(score), 6)},
        "top_intents": [{"intent": intents[i], "confidence": round(float(probs[i]), 6)} for i in order],
        "all_intents": {name: round(float(p), 6) for name, p in zip(intents, probs, strict=True)},
        "suggested_techniques": list(techniques.get(intent, {}).get(level, [])),
        "model_version": model_version,
        "cached": False,
    }
    if low_confidence_threshold is not None:
        out["low_confidence"] = bool(probs[best] < low_confidence_threshold)
    return out


def build_answers(probs: np.ndarray, level_probs: np.ndarray, scores: np.ndarray, *, intents: list[str],
                  levels: list[str], settings: dict, model_version: str) -> list[dict]:
    """One answer per row of (intent probs, level probs, score), with settings from handler_settings."""
    return [
        build_prediction(
            np.asarray(p, dtype=np.float64), lp, float(score), intents=intents, levels=levels,
            techniques=settings["techniques"], model_version=model_version, top_k=settings["top_k"],
            low_confidence_threshold=settings["low_confidence_threshold"],
        )
        for p, lp, score in zip(probs, level_probs, scores, strict=True)
    ]


def handler_settings(model_yaml_config: dict | None) -> dict:
    """The `handler:` section of the archive's model-config.yaml with defaults for missing keys."""
    cfg = dict((model_yaml_config or {}).get("handler") or {})
    serve = dict(cfg.get("serve") or {})
    return {
        "runtime": serve.get("runtime", "torch"),
        "max_chars": int(serve.get("max_text_chars", 5000)),
        "max_texts": int(serve.get("max_batch_texts", 100)),
        "cache_ttl": int(serve.get("cache_ttl_seconds", 3600)),
        "cache_enabled": bool(serve.get("cache_enabled", True)),
        "redis_url": os.environ.get("INTENT_REDIS_URL") or serve.get("redis_url"),
        "redis_password_file": os.environ.get("INTENT_REDIS_PASSWORD_FILE") or serve.get("redis_password_file"),
        "n_steps": int(serve.get("explain_n_steps", 20)),
        "n_steps_max": int(serve.get("explain_max_n_steps", 50)),
        "max_explain_texts": int(serve.get("explain_max_texts", 8)),
        "explain_budget": int(serve.get("explain_budget_token_steps", 8000)),
        "explain_deadline": float(serve.get("explain_deadline_seconds", 10.0)),
        "explain_internal_batch_size": int(serve.get("explain_internal_batch_size", 10)),
        "explain_workers": int(serve.get("explain_workers", 1)),
        "low_confidence_threshold": serve.get("low_confidence_threshold"),
        "top_k": int(serve.get("top_k", 3)),
        "techniques": dict(cfg.get("techniques") or {}),
        "monitor": dict(cfg.get("monitor") or {}),
        "torch_threads": int(cfg.get("torch_threads", 1)),
        "single_row_threads": int(cfg.get("single_row_threads", cfg.get("torch_threads", 1))),
        "bucket_max_rows": int(cfg.get("bucket_max_rows", 16)),
        "bucket_max_ratio": float(cfg.get("bucket_max_ratio", 1.5)),
        "onnx_file": cfg.get("onnx_file", "model.int8.onnx"),
        "async_mode": bool((model_yaml_config or {}).get("asyncCommunication", False)),
        "explain_nice": int(cfg.get("explain_nice", 19)),
    }
