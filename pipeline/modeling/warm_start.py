"""Start a model from an existing model directory's weights (retraining, new intents).

The intent head's rows are placed by intent NAME, so a grown (or reordered) label list keeps
every old row; rows of new intents start fresh. Used by `pipeline.modeling.train.run_training(...,
init_model_dir=DIR)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

HEAD_KEYS = ("intent_head.weight", "intent_head.bias")


def init_from_champion(model, champion_dir: Path) -> dict[str, Any]:
    """Load the champion's weights into a freshly built model whose intent list may be longer.

    Every tensor must exist with the same shape, except the intent head, whose rows are placed
    by intent name; rows of new intents keep their random init with the bias set to the mean
    old bias (neither favoured nor suppressed at the start). The champion's feature scaling is
    kept so the warm-started model computes exactly the champion's function on old intents.
    """
    champion_dir = Path(champion_dir)
    champ_cfg = json.loads((champion_dir / "model_config.json").read_text(encoding="utf-8"))
    champ_state = load_file(str(champion_dir / "model.safetensors"))
    old, new = champ_cfg["intents"], model.config["intents"]
    missing = [i for i in old if i not in new]
    if missing:
        raise ValueError(f"{champion_dir}: intents {missing} are not in the new label list {new}")
    if champ_cfg["feature_names"] != model.config["feature_names"]:
        raise ValueError(f"{champion_dir}: feature names differ from the new model's; cannot warm-start")
    state = model.state_dict()
    unexpected = sorted(set(champ_state) - set(state))
    if unexpected:
        raise ValueError(f"{champion_dir}: tensors {unexpected[:5]} do not exist in the new model (architecture differs)")
    rows = torch.tensor([new.index(i) for i in old])
    with torch.no_grad():
        for key, value in champ_state.items():
            if key in HEAD_KEYS:
                target = state[key]
                if key.endswith("bias"):
                    target[:] = value.mean()
                target[rows] = value
            elif state[key].shape != value.shape:
                raise ValueError(f"{champion_dir}: {key} has shape {tuple(value.shape)}, new model {tuple(state[key].shape)}")
            else:
                state[key] = value
    model.load_state_dict(state)
    model.config["feature_mean"] = list(champ_cfg["feature_mean"])
    model.config["feature_std"] = list(champ_cfg["feature_std"])
    model.feature_mean.copy_(torch.tensor(champ_cfg["feature_mean"], dtype=torch.float32))
    model.feature_std.copy_(torch.tensor(champ_cfg["feature_std"], dtype=torch.float32))
    return {"copied": len(champ_state), "old_intents": len(old), "new_intents": [i for i in new if i not in old]}
