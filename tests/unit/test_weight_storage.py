"""Compressed torch weights: small on disk, float32 again when loaded, close to the original."""

from __future__ import annotations

import torch

from model_src.weight_storage import load_state, save_compressed


def test_compressed_weights_load_as_float32_close_to_the_original(tmp_path):
    torch.manual_seed(0)
    state = {"embeddings": torch.randn(3000, 64), "bias": torch.randn(64), "ids": torch.arange(5),
             "small_matrix": torch.randn(8, 8)}
    path = save_compressed(state, tmp_path / "w.safetensors")
    loaded = load_state(path)
    assert set(loaded) == set(state)
    assert all(loaded[k].dtype == state[k].dtype for k in state)
    rows = state["embeddings"].abs().amax(dim=1, keepdim=True)
    assert ((loaded["embeddings"] - state["embeddings"]).abs() <= rows / 254 + 1e-6).all()  # half an int8 step per row
    assert torch.allclose(loaded["bias"], state["bias"], atol=1e-3)
    assert torch.equal(loaded["ids"], state["ids"])
    plain = 4 * sum(t.numel() for t in state.values())
    assert path.stat().st_size < 0.3 * plain


def test_plain_safetensors_still_load_unchanged(tmp_path):
    from safetensors.torch import save_file

    state = {"w": torch.randn(300, 300)}
    save_file(state, str(tmp_path / "w.safetensors"))
    assert torch.equal(load_state(tmp_path / "w.safetensors")["w"], state["w"])
