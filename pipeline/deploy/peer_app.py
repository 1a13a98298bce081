"""The peer `make bench` measures against: what a team would write in an afternoon instead of TorchServe.

FastAPI + uvicorn, ONNX Runtime int8 with one thread per worker process, the SAME
model.int8.onnx, tokenizer and feature extractor as our archive (read from an unpacked .mar), one
forward per request: no batching, no cache, no calibration, no auth. Run it with

    PEER_MODEL_DIR=<unpacked .mar> uvicorn pipeline.deploy.peer_app:app --workers 2 --port 8000

and POST {"text": "..."} to /predict. pipeline.deploy.peer starts it for the benchmark.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import onnxruntime as ort
from fastapi import FastAPI
from pydantic import BaseModel

from model_src.features import extract_features
from model_src.intent_classifier_model import load_tokenizer

MODEL_DIR = Path(os.environ.get("PEER_MODEL_DIR", "."))
CONFIG = json.loads((MODEL_DIR / "model_config.json").read_text(encoding="utf-8"))
TOKENIZER = load_tokenizer(MODEL_DIR, int(CONFIG["max_length"]))
OPTIONS = ort.SessionOptions()
OPTIONS.intra_op_num_threads = 1
OPTIONS.inter_op_num_threads = 1
SESSION = ort.InferenceSession(str(MODEL_DIR / "model.int8.onnx"), OPTIONS, providers=["CPUExecutionProvider"])
INPUTS = {i.name for i in SESSION.get_inputs()}

app = FastAPI()


class Prompt(BaseModel):
    text: str


def softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max())
    return e / e.sum()


@app.post("/predict")
def predict(prompt: Prompt) -> dict:
    ids = np.asarray([TOKENIZER(prompt.text, truncation=True, max_length=int(CONFIG["max_length"]))["input_ids"]],
                     dtype=np.int64)
    feed = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
    if "token_type_ids" in INPUTS:
        feed["token_type_ids"] = np.zeros_like(ids)
    if "features" in INPUTS:
        feed["features"] = np.asarray(extract_features([prompt.text]), dtype=np.float32)
    intent, level, score = SESSION.run(["intent_logits", "level_logits", "complexity_score"], feed)
    probs = softmax(intent[0])
    best = int(np.argmax(probs))
    return {"intent": CONFIG["intents"][best], "confidence": float(probs[best]),
            "complexity": {"level": CONFIG["complexity_levels"][int(np.argmax(level[0]))], "score": float(score[0])},
            "all_intents": dict(zip(CONFIG["intents"], probs.tolist(), strict=True))}
