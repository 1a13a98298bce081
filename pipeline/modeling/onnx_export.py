"""ONNX export of a trained model directory, with per-channel dynamic int8 quantisation.

Why: on this 2-core CPU, ONNX Runtime int8 runs MiniLM-L6 + heads ~3x faster than torch fp32
(docs/architecture.md) and the file is ~4x smaller. The handler uses it when `serve.runtime: onnx`; the
torch model stays in the archive for Captum explanations. Inputs and outputs are named as the
handler feeds them: input_ids, attention_mask, [token_type_ids], [features] ->
intent_logits, level_logits, complexity_score; batch and sequence axes are dynamic.
`make archive` calls it when params serve.runtime is onnx (or with ONNX=1).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import torch

from pipeline.progress import progress_bar

OUTPUT_NAMES = ["intent_logits", "level_logits", "complexity_score"]


def export_onnx(model_dir: Path, output: Path, *, quantize: bool = True, opset: int = 17) -> Path:
    """Write the model as ONNX (int8 weights when quantize) to output; returns output."""
    from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

    model = IntentClassifier.from_pretrained(model_dir).eval()
    tokenizer = load_tokenizer(model_dir, model.config["max_length"])
    sample = tokenizer(["write a function", "summarise this article about the history of rome please"],
                       padding=True, return_tensors="pt")
    token_types = "token_type_ids" in tokenizer.model_input_names
    n_features = len(model.config["feature_names"])
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if token_types else [])
    names += ["features"] if n_features else []
    inputs = [sample["input_ids"], sample["attention_mask"]]
    inputs += [torch.zeros_like(sample["input_ids"])] if token_types else []
    inputs += [torch.rand(len(sample["input_ids"]), n_features)] if n_features else []
    dynamic = {name: {0: "batch", 1: "sequence"} for name in names if name != "features"}
    dynamic.update({name: {0: "batch"} for name in OUTPUT_NAMES + (["features"] if n_features else [])})

    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "model.fp32.onnx" if quantize else output
        with torch.no_grad():
            torch.onnx.export(
                _ExportForward(model, token_types, bool(n_features)),
                tuple(inputs),
                str(fp32),
                input_names=names,
                output_names=OUTPUT_NAMES,
                dynamic_axes=dynamic,
                opset_version=opset,
                dynamo=False,
            )
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(output), weight_type=QuantType.QInt8, per_channel=True)
    return output


class _ExportForward(torch.nn.Module):
    """The model's forward with only the inputs this model uses, positionally (what export traces)."""

    def __init__(self, model: torch.nn.Module, token_types: bool, features: bool):
        super().__init__()
        self.model, self.token_types, self.features = model, token_types, features

    def forward(self, input_ids, attention_mask, *rest):
        token_type_ids = rest[0] if self.token_types else None
        features = rest[-1] if self.features else None
        return self.model(input_ids, attention_mask, token_type_ids, features)


def top1_agreement(model_dir: Path, onnx_path: Path, texts: list[str], batch_size: int = 16) -> dict:
    """Share of texts where the ONNX model's top-1 intent equals torch's (and the max prob gap).

    Both run on the same length-sorted, padded batches, as the handler feeds them.
    """
    import onnxruntime as ort

    from model_src.intent_classifier_model import IntentClassifier, load_tokenizer

    model = IntentClassifier.from_pretrained(model_dir).eval()
    tokenizer = load_tokenizer(model_dir, model.config["max_length"])
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    input_names = {i.name for i in session.get_inputs()}
    feats = None
    if model.config["feature_names"]:
        from model_src.features import extract_features

        feats = np.asarray(extract_features(texts), dtype=np.float32)
    ids = tokenizer(texts, truncation=True, max_length=model.config["max_length"])["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
    pad_id = tokenizer.pad_token_id or 0
    agree, max_gap = 0, 0.0
    for start in progress_bar(range(0, len(order), batch_size), desc="ONNX vs torch parity", unit="batch"):
        batch = order[start : start + batch_size]
        width = max(len(ids[i]) for i in batch)
        input_ids = np.full((len(batch), width), pad_id, dtype=np.int64)
        mask = np.zeros_like(input_ids)
        for row, i in enumerate(batch):
            input_ids[row, : len(ids[i])], mask[row, : len(ids[i])] = ids[i], 1
        feed = {"input_ids": input_ids, "attention_mask": mask}
        if "token_type_ids" in input_names:
            feed["token_type_ids"] = np.zeros_like(input_ids)
        if "features" in input_names:
            feed["features"] = feats[batch]
        onnx_logits = session.run(["intent_logits"], feed)[0]
        with torch.inference_mode():
            torch_logits = model(*(torch.from_numpy(feed[name]) if name in feed else None
                                   for name in ("input_ids", "attention_mask", "token_type_ids", "features")))[0].numpy()
        agree += int((onnx_logits.argmax(-1) == torch_logits.argmax(-1)).sum())
        max_gap = max(max_gap, float(np.abs(_softmax(onnx_logits) - _softmax(torch_logits)).max()))
    return {"n": len(texts), "top1_agreement": agree / max(len(texts), 1), "max_prob_gap": max_gap}


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
