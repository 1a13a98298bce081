"""DDP smoke test: `torchrun --nproc_per_node 2` on CPU (gloo) trains a tiny model through the real CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from tests.train_helpers import tiny_params

pytestmark = pytest.mark.slow


def test_torchrun_two_cpu_processes(tmp_path, params, tiny_encoder_dir, tiny_rows):
    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows, epochs=2, batch_size=4, checkpoint_every_steps=0)
    config = tmp_path / "params.yaml"
    config.write_text(yaml.safe_dump(p))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
           str(PROJECT_ROOT / "scripts" / "train_intent_classifier.py"), "--params", str(config), "--no-mlflow"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]

    result = json.loads((Path(p["paths"]["model_dir"]) / "training_metrics.json").read_text())
    # 30 rows over 2 ranks = 15 per rank = 4 batches of 4 per epoch: steps count per rank, not per row
    assert result["global_step"] == 2 * 4
    assert result["epochs_run"] == 2 and 0 <= result["test"]["accuracy"] <= 1
    assert proc.stderr.count("epoch 1: val accuracy") == 1  # only rank 0 logs
