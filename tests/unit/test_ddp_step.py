"""DDP really synchronises: two gloo processes on CPU, each running run_training's own steps on its
own share of the rows for one optimizer step, end with identical weights.

Why: tests/integration/test_ddp.py checks that torchrun training finishes, which it also does
when every rank trains its own model (no DistributedDataParallel wrap, no gradient all-reduce).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import torch
import torch.multiprocessing as mp
import yaml
from safetensors.torch import load_file, save_file

import pipeline.modeling.train as train_mod
from pipeline.modeling.train_data import length_bucketed_batches
from pipeline.services import free_port
from tests.train_helpers import tiny_params

WORLD_SIZE = 2


def rank_main(rank: int, port: int, params_file: str, out_dir: str) -> None:
    """One rank, as torchrun would start it: join the group, build, one epoch (= one step), save."""
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank), LOCAL_RANK=str(rank),
                      WORLD_SIZE=str(WORLD_SIZE))
    p = yaml.safe_load(Path(params_file).read_text())
    settings = train_mod.LoopSettings.from_params(p)
    setup = train_mod.set_up(p, None, resume=False)
    data = train_mod.load_data(p)
    model = train_mod.load_model(p, data, setup.device, None)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    state = train_mod.make_train_state(p, model, len(data.splits["train"]), settings, setup, resume=False)
    train_mod.train_epoch(state, data, settings, setup, epoch=0)
    rows = length_bucketed_batches(data.splits["train"].lengths, settings.batch_size, settings.seed, 0,
                                   rank=rank, world_size=WORLD_SIZE)
    out = Path(out_dir)
    save_file({k: v.contiguous() for k, v in state.model.state_dict().items()}, str(out / f"rank{rank}.safetensors"))
    save_file(before, str(out / f"rank{rank}_before.safetensors"))
    (out / f"rank{rank}.json").write_text(json.dumps({"rows": sorted(i for b in rows for i in b),
                                                      "steps": state.progress["global_step"]}))
    torch.distributed.destroy_process_group()


def test_one_step_on_different_data_leaves_both_ranks_with_identical_weights(tmp_path, params, tiny_encoder_dir,
                                                                             tiny_rows):
    # 30 rows over 2 ranks = 15 each: one batch of 16, one optimizer step per rank
    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows, epochs=1, batch_size=16, checkpoint_every_steps=0,
                    num_threads=2)
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(p))
    mp.spawn(rank_main, args=(free_port(), str(params_file), str(tmp_path)), nprocs=WORLD_SIZE, join=True)

    seen = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD_SIZE)]
    assert [s["steps"] for s in seen] == [1, 1]
    assert not set(seen[0]["rows"]) & set(seen[1]["rows"])  # different data on each rank
    w0, w1 = (load_file(str(tmp_path / f"rank{r}.safetensors")) for r in range(WORLD_SIZE))
    start = load_file(str(tmp_path / "rank0_before.safetensors"))
    changed = [k for k in w0 if not torch.equal(w0[k], start[k])]
    assert len(changed) > len(w0) // 2  # the step moved the weights ...
    different = [k for k in w0 if not torch.equal(w0[k], w1[k])]
    assert different == []  # ... identically on both ranks: gradients were averaged before the step
