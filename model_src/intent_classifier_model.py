"""Prompt intent + complexity classifier: a Hugging Face encoder, a pooling, two heads.

Read leaf-first like nanoGPT's model.py: tokenizer loading, pooling, config, then the model.
Sources: sentence-transformers pooling (mean over the attention mask), "Hierarchical Attention
Networks" (attention pooling: one learned score per token), run_glue (labels stored in the
saved config so the serving side reads them from the artefact).

TorchServe loads this file as `--model-file` and accepts exactly ONE class in it, so pooling and
config are plain functions and dicts. Only torch + transformers (+ model_src, packed beside it) are
imported: the file is packed into the .mar as is. Weights are safetensors; nothing is unpickled when loading.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from torch import nn
from transformers import AutoConfig, AutoModel, AutoTokenizer

from model_src.weight_storage import load_state  # the archive packs model_src/ beside this file

WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "model_config.json"
POOLINGS = ("cls", "mean", "max", "attention")


# -----------------------------------------------------------------------------
# tokenizer


def load_tokenizer(path: str | Path, max_length: int):
    """The encoder's tokenizer with OUR padding/truncation, not the one baked into tokenizer.json.

    all-MiniLM-L6-v2 ships a tokenizer.json that pads and truncates everything to 128 tokens; a
    pad-to-128 batch costs ~4x the compute of a dynamically padded one for typical prompts.
    """
    tokenizer = AutoTokenizer.from_pretrained(str(path))
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:  # fast tokenizers only; sentencepiece (slow) ones have no fixed padding
        backend.no_padding()
        backend.no_truncation()
    tokenizer.model_max_length = max_length
    return tokenizer


# -----------------------------------------------------------------------------
# pooling: (B, T, H) token states + (B, T) mask -> (B, H)


def cls_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    return hidden[:, 0]  # (B, H) the first token ([CLS] / DeBERTa's [CLS])


def mean_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    m = mask.unsqueeze(-1).to(hidden.dtype)  # (B, T, 1)
    return (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)  # (B, H)


def max_pool(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    neg = torch.finfo(hidden.dtype).min
    return hidden.masked_fill(mask.unsqueeze(-1) == 0, neg).max(1).values  # (B, H)


def attention_pool(hidden: torch.Tensor, mask: torch.Tensor, scorer: nn.Module) -> torch.Tensor:
    scores = scorer(hidden).squeeze(-1)  # (B, T) one learned relevance score per token
    scores = scores.masked_fill(mask == 0, torch.finfo(scores.dtype).min)
    weights = scores.softmax(-1).unsqueeze(-1)  # (B, T, 1)
    return (hidden * weights).sum(1)  # (B, H)


# -----------------------------------------------------------------------------
# config: a plain dict saved as model_config.json (readable by the handler without this class)


def make_config(
    *,
    encoder: dict,
    intents: list[str],
    complexity_levels: list[str],
    pooling: str = "mean",  # mean: best default for sentence-transformers encoders (trained with it)
    dropout: float = 0.1,
    max_length: int = 128,
    feature_names: list[str] | None = None,
    feature_mean: list[float] | None = None,
    feature_std: list[float] | None = None,
    freeze_embeddings: bool = False,
    freeze_layers: int = 0,
    base: str = "",
) -> dict:
    """Validated model config; `encoder` is the encoder's transformers config as a dict."""
    if pooling not in POOLINGS:
        raise ValueError(f"model.pooling must be one of {POOLINGS}, got {pooling!r}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"model.dropout must be in [0, 1), got {dropout}")
    if not intents or not complexity_levels:
        raise ValueError("intents and complexity_levels must be non-empty lists")
    feature_names = list(feature_names or [])
    n = len(feature_names)
    feature_mean = list(feature_mean) if feature_mean is not None else [0.0] * n
    feature_std = list(feature_std) if feature_std is not None else [1.0] * n
    if len(feature_mean) != n or len(feature_std) != n:
        raise ValueError(f"feature stats must have {n} entries (one per feature name)")
    return {
        "architecture": "IntentClassifier",
        "base": base,
        "encoder": encoder,
        "intents": list(intents),
        "complexity_levels": list(complexity_levels),
        "pooling": pooling,
        "dropout": dropout,
        "max_length": max_length,
        "feature_names": feature_names,
        "feature_mean": feature_mean,
        "feature_std": feature_std,
        "freeze_embeddings": freeze_embeddings,
        "freeze_layers": freeze_layers,
    }


# -----------------------------------------------------------------------------
# model


class IntentClassifier(nn.Module):
    """Encoder -> pooling -> [pooled ; normalised complexity features] -> intent head, complexity head.

    forward returns (intent_logits (B, N), level_logits (B, L), complexity_score (B,) in [0, 1]);
    `loss` turns them plus targets into the multi-task loss used in training.
    """

    def __init__(self, config: dict, encoder: nn.Module | None = None):
        super().__init__()
        self.config = config
        if encoder is None:  # rebuilt from the saved config; weights come from model.safetensors
            enc_cfg = dict(config["encoder"])
            encoder = AutoModel.from_config(AutoConfig.for_model(enc_cfg.pop("model_type"), **enc_cfg))
        if getattr(encoder, "pooler", None) is not None:
            encoder.pooler = None  # we pool ourselves; an unused pooler also breaks DDP's gradient sync
        self.encoder = encoder
        hidden = encoder.config.hidden_size
        n_feat = len(config["feature_names"])
        # raw features in, normalised here: callers (handler, ONNX) pass extract_features() as is
        self.register_buffer("feature_mean", torch.tensor(config["feature_mean"], dtype=torch.float32), persistent=False)
        self.register_buffer("feature_std", torch.tensor(config["feature_std"], dtype=torch.float32), persistent=False)
        self.attention_scorer = nn.Linear(hidden, 1) if config["pooling"] == "attention" else None
        self.dropout = nn.Dropout(config["dropout"])
        self.intent_head = nn.Linear(hidden + n_feat, len(config["intents"]))
        # complexity: one logit per level plus one for the score (sigmoid -> [0, 1])
        self.complexity_head = nn.Linear(hidden + n_feat, len(config["complexity_levels"]) + 1)
        self.apply_freezing()

    # --- construction -------------------------------------------------------

    @classmethod
    def from_encoder(cls, encoder_dir: str | Path, **config_kwargs) -> IntentClassifier:
        """A new classifier on top of pretrained encoder weights from a LOCAL directory."""
        encoder = AutoModel.from_pretrained(str(encoder_dir), dtype=torch.float32)
        config = make_config(encoder=encoder.config.to_dict(), **config_kwargs)
        return cls(config, encoder=encoder)

    @classmethod
    def from_pretrained(cls, model_dir: str | Path) -> IntentClassifier:
        """Load a directory written by save_pretrained (safetensors: no pickle is executed)."""
        model_dir = Path(model_dir)
        for name in (CONFIG_NAME, WEIGHTS_NAME):
            if not (model_dir / name).is_file():
                raise FileNotFoundError(f"{model_dir / name} is missing: not a model directory written by training")
        config = json.loads((model_dir / CONFIG_NAME).read_text(encoding="utf-8"))
        model = cls(config)
        model.load_state_dict(load_state(model_dir / WEIGHTS_NAME), strict=True)  # plain or compressed (archive)
        return model.eval()

    def save_pretrained(self, model_dir: str | Path, tokenizer=None) -> None:
        """Weights (safetensors) + model_config.json (+ tokenizer files) into one directory."""
        model_dir = Path(model_dir)
        model_dir.mkdir(parents=True, exist_ok=True)
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        save_file(state, str(model_dir / WEIGHTS_NAME), metadata={"format": "pt"})
        (model_dir / CONFIG_NAME).write_text(json.dumps(self.config, indent=2), encoding="utf-8")
        if tokenizer is not None:
            tokenizer.save_pretrained(str(model_dir))

    def apply_freezing(self) -> None:
        """Freeze the embeddings and/or the first `freeze_layers` transformer layers."""
        if self.config["freeze_embeddings"]:
            for p in self.encoder.embeddings.parameters():
                p.requires_grad = False
        k = self.config["freeze_layers"]
        if k:
            layers = self.encoder.encoder.layer  # BERT, RoBERTa, DeBERTa(-v2/v3), XLM-R all name it so
            if k > len(layers):
                raise ValueError(f"model.freeze_layers={k} but the encoder has only {len(layers)} layers")
            for layer in layers[:k]:
                for p in layer.parameters():
                    p.requires_grad = False

    # --- forward ------------------------------------------------------------

    def pool(self, hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        pooling = self.config["pooling"]
        if pooling == "attention":
            return attention_pool(hidden, mask, self.attention_scorer)
        return {"cls": cls_pool, "mean": mean_pool, "max": max_pool}[pooling](hidden, mask)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        features: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        enc_inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
        if token_type_ids is not None:  # BERT tokenizers emit it; ONNX export passes it explicitly
            enc_inputs["token_type_ids"] = token_type_ids
        hidden = self.encoder(**enc_inputs).last_hidden_state  # (B, T, H)
        x = self.pool(hidden.float(), attention_mask)  # (B, H), float32 even under bf16 autocast
        if self.feature_mean.numel():
            if features is None:
                raise ValueError(f"this model needs complexity features {self.config['feature_names']}")
            feats = (features.float() - self.feature_mean) / self.feature_std  # (B, F)
            x = torch.cat([x, feats], dim=-1)  # (B, H + F)
        x = self.dropout(x)
        intent_logits = self.intent_head(x)  # (B, N)
        complexity = self.complexity_head(x)  # (B, L + 1)
        level_logits, score = complexity[:, :-1], complexity[:, -1].sigmoid()  # (B, L), (B,)
        return intent_logits, level_logits, score

    @staticmethod
    def loss(
        outputs: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
        intent: torch.Tensor,
        level: torch.Tensor,
        score: torch.Tensor,
        complexity_weight: float,
    ) -> torch.Tensor:
        """Intent cross-entropy + weight x (level cross-entropy + score MSE)."""
        intent_logits, level_logits, score_pred = outputs
        complexity = F.cross_entropy(level_logits.float(), level) + F.mse_loss(score_pred.float(), score)
        return F.cross_entropy(intent_logits.float(), intent) + complexity_weight * complexity
