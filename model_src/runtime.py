"""The forward pass as the service runs it: length-bucketed batches through ONNX Runtime (int8) or
torch, temperature-calibrated. Shared by the TorchServe handler and the MLflow pyfunc, so both give
the same numbers for the same text.

Rows are sorted by token length and cut into buckets before the forward pass: with a real spread
of prompt lengths a padded batch is slower than one-by-one inference (docs/architecture.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

Runner = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], tuple[np.ndarray, np.ndarray, np.ndarray]]


def length_buckets(lengths: list[int], max_rows: int, max_ratio: float) -> list[list[int]]:
    """Indices sorted by length, cut so no bucket exceeds max_rows or pads a row beyond max_ratio x.

    Padding a 5-token prompt to 150 tokens costs as much as the 150-token one: buckets keep the
    padded width close to each row's own length.
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    buckets: list[list[int]] = []
    for i in order:
        current = buckets[-1] if buckets else None
        if current and len(current) < max_rows and lengths[i] <= max_ratio * max(lengths[current[0]], 1):
            current.append(i)
        else:
            buckets.append([i])
    return buckets


def pad_batch(ids: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """(input_ids (B, T), attention_mask (B, T)) int64, right-padded to the longest row."""
    width = max(len(x) for x in ids)
    input_ids = np.full((len(ids), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(ids), width), dtype=np.int64)
    for row, x in enumerate(ids):
        input_ids[row, : len(x)] = x
        mask[row, : len(x)] = 1
    return input_ids, mask


def softmax(x: np.ndarray) -> np.ndarray:
    z = x - x.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def torch_runner(model, use_token_types: bool, threads: int):
    """A forward function on numpy arrays -> (intent logits, level logits, score) numpy."""

    def run(input_ids: np.ndarray, mask: np.ndarray, features: np.ndarray | None):
        ids = torch.from_numpy(input_ids)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        with torch.inference_mode():
            intent, level, score = model(
                ids,
                torch.from_numpy(mask),
                torch.zeros_like(ids) if use_token_types else None,
                torch.from_numpy(features) if features is not None else None,
            )
        return intent.float().numpy(), level.float().numpy(), score.float().numpy()

    return run


def onnx_runner(session):
    """The same forward through an ONNX Runtime session (inputs named as pipeline.modeling.onnx_export writes them)."""
    names = {i.name for i in session.get_inputs()}

    def run(input_ids: np.ndarray, mask: np.ndarray, features: np.ndarray | None):
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in names:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        if "features" in names:
            feed["features"] = features
        intent, level, score = session.run(["intent_logits", "level_logits", "complexity_score"], feed)
        return intent, level, score

    return run


def onnx_session_runner(onnx_path: Path, threads: int) -> Runner:
    """An ONNX Runtime session on `threads` intra-op threads, wrapped by onnx_runner."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if threads > 1:  # pool threads sleep between calls instead of spinning on a shared core
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnx_runner(ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"]))


def bucketed_forward(ids: list[list[int]], feats: np.ndarray | None, run: Runner, *, temperature: float,
                     pad_id: int, max_rows: int, max_ratio: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(calibrated intent probs (N, C), level probs (N, L), complexity score (N,)) in input order."""
    probs, level_probs, scores = [None] * len(ids), [None] * len(ids), np.zeros(len(ids))
    for bucket in length_buckets([len(x) for x in ids], max_rows, max_ratio):
        input_ids, mask = pad_batch([ids[i] for i in bucket], pad_id)
        intent_logits, level_logits, score = run(input_ids, mask, feats[bucket] if feats is not None else None)
        bucket_probs = softmax(intent_logits.astype(np.float64) / temperature)
        bucket_levels = softmax(level_logits.astype(np.float64))
        for row, i in enumerate(bucket):
            probs[i], level_probs[i], scores[i] = bucket_probs[row], bucket_levels[row], float(score[row])
    return np.asarray(probs), np.asarray(level_probs), scores


@dataclass
class ServedModel:
    """A model directory loaded as the service loads it (settings: responses.handler_settings)."""

    model: torch.nn.Module
    tokenizer: object
    intents: list[str]
    levels: list[str]
    feature_names: list[str]
    max_length: int
    use_token_types: bool
    pad_id: int
    temperature: float
    extract_features: Callable | None
    run: Runner
    run_single: Runner  # a lone row (low load: the other core is idle) gets single_row_threads

    @classmethod
    def load(cls, model_dir: Path, settings: dict) -> ServedModel:
        from model_src.calibration import load_temperature
        from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

        model = IntentClassifier.from_pretrained(model_dir)  # names the missing file if any
        config = model.config
        tokenizer = load_tokenizer(model_dir, int(config["max_length"]))
        use_token_types = "token_type_ids" in tokenizer.model_input_names
        extract = None
        if config["feature_names"]:
            from model_src.features import FEATURE_NAMES, extract_features

            if list(FEATURE_NAMES) != list(config["feature_names"]):
                raise ValueError(
                    f"model was trained with features {config['feature_names']}, the packed "
                    f"model_src/features.py computes {list(FEATURE_NAMES)}: rebuild the archive"
                )
            extract = extract_features
        threads, single = settings["torch_threads"], settings["single_row_threads"]
        if settings["runtime"] == "onnx":
            onnx_path = Path(model_dir) / settings["onnx_file"]
            if not onnx_path.is_file():
                raise FileNotFoundError(f"serve.runtime is onnx but {settings['onnx_file']} is not in {model_dir}")
            run = onnx_session_runner(onnx_path, threads)
            run_single = onnx_session_runner(onnx_path, single) if single != threads else run
        elif settings["runtime"] == "torch":
            run, run_single = torch_runner(model, use_token_types, threads), torch_runner(model, use_token_types, single)
        else:
            raise ValueError(f"serve.runtime must be torch or onnx, got {settings['runtime']!r}")
        return cls(model=model, tokenizer=tokenizer, intents=list(config["intents"]),
                   levels=list(config["complexity_levels"]), feature_names=list(config["feature_names"]),
                   max_length=int(config["max_length"]), use_token_types=use_token_types,
                   pad_id=tokenizer.pad_token_id or 0, temperature=load_temperature(model_dir),
                   extract_features=extract, run=run, run_single=run_single)

    def tokenize(self, texts: list[str]) -> list[list[int]]:
        return self.tokenizer(texts, truncation=True, max_length=self.max_length)["input_ids"]

    def features(self, texts: list[str]) -> np.ndarray | None:
        if self.extract_features is None:
            return None
        return np.asarray(self.extract_features(texts), dtype=np.float32)
