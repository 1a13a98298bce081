"""The benchmark's PNG, drawn from a small results dict shaped like bench/results.json."""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib.image import imread

from pipeline.deploy.bench_plot import latency_series, plot_bench, throughput_series
from scripts import benchmark as bench_script

RESULTS = {
    "archive": "intent_classifier.mar",
    "machine": {"cpu": "test CPU", "cores": 2, "load_average_1m": 1.0},
    "served": {
        "latency_c1": {"n": 300, "p50_ms": 7.4, "p95_ms": 14.9, "p99_ms": 19.4, "mean_ms": 8.5, "runs_p95_ms": [14.0, 14.9, 15.1]},
        "throughput_c16": {"prompts_per_s": 269.0, "runs_prompts_per_s": [245.0, 269.0, 277.1]},
        "throughput_c16_python_client": {"prompts_per_s": 263.2, "runs_prompts_per_s": [264.8, 258.9, 263.2],
                                         "n": 1200, "p50_ms": 60.4, "p95_ms": 76.0, "p99_ms": 82.1, "mean_ms": 60.4},
        "cache_hit_c1": {"n": 300, "p50_ms": 1.28, "p95_ms": 1.98, "p99_ms": 5.27, "mean_ms": 1.44},
    },
    "raw_in_process": {"prompts_per_s": 404.6, "runs_prompts_per_s": [399.9, 404.6, 406.7]},
    "naive_pipeline": {"prompts_per_s": 111.8},
}


def test_series_pick_every_measure_present():
    assert list(latency_series(RESULTS)) == ["served c=1", "cache hit c=1", "Python client c=16"]
    tput = throughput_series(RESULTS)
    assert tput["served c=16 (wrk)"] == (269.0, [245.0, 269.0, 277.1])
    assert tput["naive pipeline"] == (111.8, [111.8])  # one figure, no repeats: drawn as its own run
    assert "raw at served batch" not in tput


@pytest.mark.parametrize("results", [RESULTS, {**RESULTS, "served": {"latency_c1": RESULTS["served"]["latency_c1"]}}])
def test_png_is_written_and_not_blank(tmp_path, results):
    png = plot_bench(results, tmp_path / "results.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = imread(png)
    height, width = pixels.shape[:2]
    assert width > 1000 and height > 400
    assert float(np.std(pixels[..., :3])) > 0.05  # lines, bars and text, not an empty canvas


def test_script_redraws_the_png_of_a_results_file(tmp_path, capsys):
    results = tmp_path / "results.json"
    results.write_text(json.dumps(RESULTS))
    assert bench_script.main(["--plot", str(results)]) == 0
    assert (tmp_path / "results.png").stat().st_size > 20_000
    assert "results.png" in capsys.readouterr().out
    assert bench_script.main(["--plot", str(tmp_path / "missing.json")]) == 2
