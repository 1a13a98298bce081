"""Temperature scaling: fitting lowers NLL on an overconfident set, keeps argmax, round-trips."""

from __future__ import annotations

import numpy as np
import pytest

from model_src.calibration import (
    CALIBRATION_FILE,
    apply_temperature,
    fit_temperature,
    load_temperature,
    save_temperature,
)
from pipeline.evaluation import metrics


def _overconfident_set(n=3000, c=5, seed=0):
    """Logits whose softmax is right ~70% of the time but claims ~99%."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, c, n)
    pred = np.where(rng.uniform(size=n) < 0.7, y, rng.integers(0, c, n))
    logits = rng.normal(0, 0.5, (n, c))
    logits[np.arange(n), pred] += 6.0
    return logits, y


def test_fit_lowers_nll_and_ece_on_overconfident_set():
    logits, y = _overconfident_set()
    raw = apply_temperature(logits, 1.0)
    t = fit_temperature(logits, y)
    cal = apply_temperature(logits, t)
    assert t > 1.5  # overconfident -> soften
    assert metrics.negative_log_likelihood(y, cal) < metrics.negative_log_likelihood(y, raw)
    assert metrics.expected_calibration_error(y, cal, 15) < metrics.expected_calibration_error(y, raw, 15)
    assert (cal.argmax(1) == raw.argmax(1)).all()


def test_probabilities_and_logits_give_the_same_result():
    logits, y = _overconfident_set(n=200)
    probs = apply_temperature(logits, 1.0)
    np.testing.assert_allclose(apply_temperature(probs, 2.5), apply_temperature(logits, 2.5), atol=1e-9)
    assert fit_temperature(probs, y) == pytest.approx(fit_temperature(logits, y), rel=1e-3)
    # a single row (C,) works too, T=1 on probabilities is the identity
    np.testing.assert_allclose(apply_temperature(probs[0], 1.0), probs[0], atol=1e-9)


def test_save_load_and_bad_file(tmp_path):
    assert load_temperature(tmp_path) == 1.0  # never calibrated -> no scaling
    save_temperature(tmp_path, 1.7, fitted_on="val", n=10)
    assert load_temperature(tmp_path) == pytest.approx(1.7)
    (tmp_path / CALIBRATION_FILE).write_text('{"temp": 2}')
    with pytest.raises(ValueError, match=CALIBRATION_FILE):
        load_temperature(tmp_path)
    with pytest.raises(ValueError, match="> 0"):
        apply_temperature(np.zeros(3), 0.0)
