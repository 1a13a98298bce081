"""The training loop's options checked against what they promise, through pipeline.modeling.train's
own steps: gradient accumulation (2 micro-batches of b == one batch of 2b), AMP (bf16 autocast on
CPU, fp32 weights and gradients) and early stopping (stops after `patience` epochs without improvement).

Why: a loop that ignores train.grad_accum_steps, never autocasts or never stops still trains and
passes test_train.py.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

import pipeline.modeling.train as train_mod
from tests.train_helpers import tiny_params

ROWS = 16  # one optimizer step per epoch in both accumulation set-ups below
OPTIMIZER_STEP = train_mod.optimizer_step  # the real one, whatever a test wraps it in


@pytest.fixture(scope="module")
def deterministic_encoder_dir(tmp_path_factory, tiny_encoder_dir):
    """The tiny encoder without dropout: two runs that see the same rows compute the same function."""
    out = tmp_path_factory.mktemp("no_dropout_encoder")
    shutil.copytree(tiny_encoder_dir, out, dirs_exist_ok=True)
    config = json.loads((out / "config.json").read_text())
    config.update(hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    (out / "config.json").write_text(json.dumps(config))
    return out


def loop_params(params, tmp_path, encoder_dir, rows, **train) -> dict:
    p = tiny_params(params, tmp_path, encoder_dir, rows, checkpoint_every_steps=0, max_train_samples=ROWS, **train)
    p["model"]["dropout"] = 0.0
    return p


def one_epoch(p: dict, monkeypatch) -> tuple[train_mod.TrainState, list[dict[str, torch.Tensor]]]:
    """Epoch 1 of run_training's own steps; returns the state and the gradients at each optimizer step."""
    grads = []

    def recording_step(state, settings):
        grads.append({n: q.grad.detach().clone() for n, q in state.model.named_parameters() if q.grad is not None})
        OPTIMIZER_STEP(state, settings)

    monkeypatch.setattr(train_mod, "optimizer_step", recording_step)
    settings = train_mod.LoopSettings.from_params(p)
    setup = train_mod.set_up(p, None, resume=False)
    data = train_mod.load_data(p)
    model = train_mod.load_model(p, data, setup.device, None)
    state = train_mod.make_train_state(p, model, len(data.splits["train"]), settings, setup, resume=False)
    train_mod.train_epoch(state, data, settings, setup, epoch=0)
    return state, grads


def test_accumulating_two_batches_of_b_equals_one_batch_of_2b(tmp_path, params, deterministic_encoder_dir, tiny_rows,
                                                              monkeypatch):
    big, big_grads = one_epoch(loop_params(params, tmp_path / "2b", deterministic_encoder_dir, tiny_rows,
                                           batch_size=ROWS, grad_accum_steps=1), monkeypatch)
    acc, acc_grads = one_epoch(loop_params(params, tmp_path / "2xb", deterministic_encoder_dir, tiny_rows,
                                           batch_size=ROWS // 2, grad_accum_steps=2), monkeypatch)
    assert len(big_grads) == len(acc_grads) == 1  # accumulation stepped once, after both micro-batches
    assert big_grads[0].keys() == acc_grads[0].keys()
    for name, g in big_grads[0].items():  # the mean gradient over the same 16 rows, not the sum or the last half
        torch.testing.assert_close(acc_grads[0][name], g, rtol=1e-4, atol=1e-6, msg=name)
    big_weights, acc_weights = big.model.state_dict(), acc.model.state_dict()
    for name, w in big_weights.items():
        torch.testing.assert_close(acc_weights[name], w, rtol=0, atol=1e-5, msg=name)
    assert big.progress["global_step"] == acc.progress["global_step"] == 1


def test_amp_autocasts_to_bf16_on_cpu_and_keeps_fp32_weights(tmp_path, params, deterministic_encoder_dir, tiny_rows,
                                                             monkeypatch):
    seen = []

    def record_dtype(module, args, output):
        seen.append(output.dtype)

    fp32, fp32_grads = one_epoch(loop_params(params, tmp_path / "fp32", deterministic_encoder_dir, tiny_rows,
                                             batch_size=ROWS, amp=False), monkeypatch)
    real_load_model = train_mod.load_model

    def load_model_with_hook(*args):
        model = real_load_model(*args)
        model.encoder.encoder.layer[0].attention.self.query.register_forward_hook(record_dtype)
        return model

    monkeypatch.setattr(train_mod, "load_model", load_model_with_hook)
    amp, amp_grads = one_epoch(loop_params(params, tmp_path / "amp", deterministic_encoder_dir, tiny_rows,
                                           batch_size=ROWS, amp=True), monkeypatch)
    assert seen and set(seen) == {torch.bfloat16}  # the encoder's matmuls ran in bf16
    assert amp.scaler is None  # no GradScaler on CPU: bf16 has fp32's exponent range
    assert all(q.dtype == torch.float32 for q in amp.model.parameters())  # master weights stay fp32
    assert all(g.dtype == torch.float32 for g in amp_grads[0].values())
    # the same gradient as fp32, to bf16's precision (8 bits of mantissa)
    flat = torch.cat([g.flatten() for g in amp_grads[0].values()])
    ref = torch.cat([g.flatten() for g in fp32_grads[0].values()])
    assert torch.nn.functional.cosine_similarity(flat, ref, dim=0) > 0.99
    assert not torch.equal(flat, ref)  # and not the fp32 computation itself


@pytest.mark.parametrize(
    ("val_f1", "patience", "epochs_run"),
    [
        ([0.5, 0.6, 0.6, 0.55, 0.9, 0.9], 2, 4),  # 2 epochs without improvement after epoch 2: stop
        ([0.5, 0.4, 0.6, 0.5, 0.6, 0.9], 2, 5),  # an improvement resets the count
        ([0.5, 0.4, 0.4, 0.4, 0.4, 0.9], 0, 6),  # patience 0: early stopping off
    ],
)
def test_early_stopping_after_patience_epochs_without_improvement(tmp_path, params, tiny_encoder_dir, tiny_rows,
                                                                  monkeypatch, val_f1, patience, epochs_run):
    trained = []
    real_train_epoch = train_mod.train_epoch
    monkeypatch.setattr(train_mod, "train_epoch", lambda *args: (trained.append(args[-1]), real_train_epoch(*args)))
    monkeypatch.setattr(train_mod, "validate", lambda model, data, settings, device, epoch: {
        "weighted_f1": val_f1[epoch], "accuracy": val_f1[epoch], "loss": 1.0, "epoch": epoch + 1})
    p = tiny_params(params, tmp_path, tiny_encoder_dir, tiny_rows, epochs=len(val_f1), early_stopping_patience=patience,
                    checkpoint_every_steps=0, batch_size=16)
    result = train_mod.run_training(p, log_to_mlflow=False)
    assert trained == list(range(epochs_run))
    assert result["epochs_run"] == epochs_run
    assert result["best_val_f1"] == max(val_f1[:epochs_run])
