"""Temperature scaling (Guo et al. 2017, "On Calibration of Modern Neural Networks").

One scalar T divides the logits before the softmax: T > 1 softens an overconfident model, the
argmax (and so accuracy) never changes. T is fitted on the validation split by minimising NLL
and stored next to the weights as calibration.json {"temperature": T}; the Predictor and the
TorchServe handler call `apply_temperature` so every probability the service returns is
calibrated. Depends only on numpy (+ scipy for the fit), so the handler can import it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

CALIBRATION_FILE = "calibration.json"
# Search range for T: wide enough for any sane model, bounded so the 1-D search cannot run off.
_T_MIN, _T_MAX = 0.05, 20.0


def _looks_like_probs(x: np.ndarray) -> bool:
    return bool(np.all(x >= 0) and np.all(x <= 1) and np.allclose(x.sum(axis=-1), 1.0, atol=1e-4))


def apply_temperature(logits_or_probs, temperature: float, *, from_probs: bool | None = None) -> np.ndarray:
    """Calibrated probabilities softmax(logits / T).

    Accepts logits or probabilities, (C,) or (N, C). Probabilities are turned back into logits
    with log(p) (softmax is shift-invariant, so this is exact up to clipping). `from_probs=None`
    detects probabilities (non-negative rows summing to 1); pass True/False to skip the guess.
    """
    if not temperature > 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    x = np.asarray(logits_or_probs, dtype=np.float64)
    if from_probs is None:
        from_probs = _looks_like_probs(x)
    logits = np.log(np.clip(x, 1e-12, 1.0)) if from_probs else x
    z = logits / float(temperature)
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _nll(logits: np.ndarray, y: np.ndarray, temperature: float) -> float:
    z = logits / temperature
    z = z - z.max(axis=1, keepdims=True)
    log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(y)), y].mean())


def fit_temperature(logits_or_probs, y_true, *, from_probs: bool | None = None) -> float:
    """The T in [0.05, 20] that minimises validation NLL (bounded 1-D search on log T)."""
    from scipy.optimize import minimize_scalar

    x = np.asarray(logits_or_probs, dtype=np.float64)
    y = np.asarray(y_true, dtype=int)
    if x.ndim != 2 or len(x) != len(y) or len(y) == 0:
        raise ValueError(f"expected (N, C) scores and (N,) labels, got {x.shape} and {y.shape}")
    if from_probs is None:
        from_probs = _looks_like_probs(x)
    logits = np.log(np.clip(x, 1e-12, 1.0)) if from_probs else x
    res = minimize_scalar(
        lambda log_t: _nll(logits, y, float(np.exp(log_t))),
        bounds=(np.log(_T_MIN), np.log(_T_MAX)),
        method="bounded",
        options={"xatol": 1e-4},
    )
    best = float(np.exp(res.x))
    # never return a T that is worse than no scaling at all (flat objective on tiny sets)
    return best if _nll(logits, y, best) <= _nll(logits, y, 1.0) else 1.0


def save_temperature(model_dir: str | Path, temperature: float, **extra) -> Path:
    """Write calibration.json into the model directory (extra keys: how it was fitted)."""
    path = Path(model_dir) / CALIBRATION_FILE
    path.write_text(
        json.dumps({"temperature": float(temperature), **extra}, indent=2) + "\n", encoding="utf-8"
    )
    return path


def load_temperature(model_dir: str | Path) -> float:
    """T from calibration.json, or 1.0 (no scaling) when the model was never calibrated."""
    path = Path(model_dir) / CALIBRATION_FILE
    if not path.is_file():
        return 1.0
    try:
        temperature = float(json.loads(path.read_text(encoding="utf-8"))["temperature"])
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f'{path}: expected {{"temperature": <number > 0>}} ({exc})') from exc
    if not temperature > 0:
        raise ValueError(f"{path}: temperature must be > 0, got {temperature}")
    return temperature
