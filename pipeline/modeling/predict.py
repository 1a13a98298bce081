"""Predictions from a saved model directory: the one inference path shared by evaluation and scripts.

Texts are sorted by token length and batched, so a short prompt is never padded to the length of
a long one (with real prompts that is most of the CPU time). Intent probabilities are divided by
the temperature in calibration.json when the evaluation step has written one.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

CALIBRATION_NAME = "calibration.json"


class Predictor:
    """Load a model directory once; `predict` / `predict_proba` on lists of texts."""

    def __init__(self, model_dir: str | Path, device: str = "cpu", batch_size: int = 32):
        self.model_dir = Path(model_dir)
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.model = IntentClassifier.from_pretrained(self.model_dir).to(self.device).eval()
        cfg = self.model.config
        self.intents: list[str] = cfg["intents"]
        self.complexity_levels: list[str] = cfg["complexity_levels"]
        self.feature_names: list[str] = cfg["feature_names"]
        self.max_length: int = cfg["max_length"]
        self.tokenizer = load_tokenizer(self.model_dir, self.max_length)
        self.token_types = "token_type_ids" in self.tokenizer.model_input_names
        self.temperature = self._read_temperature()
        if self.feature_names:
            from model_src.features import FEATURE_NAMES

            if list(FEATURE_NAMES) != self.feature_names:
                raise ValueError(
                    f"{self.model_dir}: model was trained with features {self.feature_names}, "
                    f"but model_src.features now computes {list(FEATURE_NAMES)}: retrain the model"
                )

    def _read_temperature(self) -> float:
        path = self.model_dir / CALIBRATION_NAME
        if not path.is_file():
            return 1.0
        temperature = float(json.loads(path.read_text(encoding="utf-8"))["temperature"])
        if not temperature > 0:
            raise ValueError(f"{path}: temperature must be > 0, got {temperature}")
        return temperature

    @torch.inference_mode()
    def predict_proba(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(intent probs (N, C) calibrated, complexity level probs (N, L), complexity score (N,))."""
        if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
            raise TypeError("texts must be a list of strings")
        n = len(texts)
        probs = np.zeros((n, len(self.intents)), dtype=np.float32)
        level_probs = np.zeros((n, len(self.complexity_levels)), dtype=np.float32)
        scores = np.zeros(n, dtype=np.float32)
        if n == 0:
            return probs, level_probs, scores
        ids = self.tokenizer(list(texts), truncation=True, max_length=self.max_length)["input_ids"]
        feats = None
        if self.feature_names:
            from model_src.features import extract_features

            feats = torch.from_numpy(np.asarray(extract_features(list(texts)), dtype=np.float32))
        order = sorted(range(n), key=lambda i: len(ids[i]))
        pad_id = self.tokenizer.pad_token_id or 0
        for start in range(0, n, self.batch_size):
            batch = order[start:start + self.batch_size]
            width = max(len(ids[i]) for i in batch)
            input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, i in enumerate(batch):
                input_ids[row, :len(ids[i])] = torch.tensor(ids[i])
                mask[row, :len(ids[i])] = 1
            intent_logits, level_logits, score = self.model(
                input_ids.to(self.device),
                mask.to(self.device),
                torch.zeros_like(input_ids).to(self.device) if self.token_types else None,
                feats[batch].to(self.device) if feats is not None else None,
            )
            probs[batch] = (intent_logits.float() / self.temperature).softmax(-1).cpu().numpy()
            level_probs[batch] = level_logits.float().softmax(-1).cpu().numpy()
            scores[batch] = score.float().cpu().numpy()
        return probs, level_probs, scores

    def predict(self, texts: list[str]) -> list[dict]:
        """One dict per text: intent, confidence, probabilities, complexity {level, score}."""
        probs, level_probs, scores = self.predict_proba(texts)
        out = []
        for p, lp, s in zip(probs, level_probs, scores, strict=True):
            best = int(p.argmax())
            out.append({
                "intent": self.intents[best],
                "confidence": float(p[best]),
                "probabilities": {intent: float(v) for intent, v in zip(self.intents, p, strict=True)},
                "complexity": {"level": self.complexity_levels[int(lp.argmax())], "score": float(s)},
            })
        return out
