"""Evaluation of a model: metrics, calibration fit, plots, report, error analysis, per-language figures, promotion gate."""
