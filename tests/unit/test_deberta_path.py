"""The DeBERTa-v3 path (`model.base: <deberta-v3-base dir>`) with a tiny random v3-shaped model.

Real deberta-v3-base weights cannot be downloaded here, so the same loading code runs on the
tiny v3-shaped model of tests/conftest.py (build_tiny_deberta_encoder). Serving it through
TorchServe and ONNX: tests/integration/test_deberta_served.py.
"""

from __future__ import annotations

import torch

from model_src.intent_classifier_model import IntentClassifier, load_tokenizer
from pipeline.modeling.predict import Predictor
from pipeline.modeling.train import run_training
from tests.train_helpers import tiny_params


def test_sentencepiece_tokenizer_is_real_not_unk(tiny_deberta_dir):
    tok = load_tokenizer(tiny_deberta_dir, 64)
    ids = tok("Write a short poem about autumn rain")["input_ids"]
    assert ids[0] == 1 and ids[-1] == 2  # [CLS] ... [SEP]
    assert sum(i == tok.unk_token_id for i in ids) == 0


def test_deberta_v3_trains_saves_and_loads_end_to_end(tmp_path, params, tiny_deberta_dir, tiny_rows):
    p = tiny_params(params, tmp_path, tiny_deberta_dir, tiny_rows, epochs=2, batch_size=10)
    p["model"].update(pooling="attention", freeze_embeddings=True)
    result = run_training(p, log_to_mlflow=False)
    assert result["epochs_run"] == 2 and 0 <= result["test"]["accuracy"] <= 1

    model = IntentClassifier.from_pretrained(result["model_dir"])
    enc = model.config["encoder"]
    assert enc["model_type"] == "deberta-v2" and enc["relative_attention"] and enc["pos_att_type"] == ["p2c", "c2p"]
    assert type(model.encoder).__name__ == "DebertaV2Model"

    predictor = Predictor(result["model_dir"])
    texts = [r["text"] for r in tiny_rows[:4]]
    probs = predictor.predict_proba(texts)[0]
    tok = load_tokenizer(result["model_dir"], 64)
    b = tok(texts, padding=True, return_tensors="pt")
    from model_src.features import extract_features

    with torch.no_grad():
        logits = model(b["input_ids"], b["attention_mask"], b.get("token_type_ids"),
                       torch.from_numpy(extract_features(texts)))[0]
    torch.testing.assert_close(torch.from_numpy(probs), logits.softmax(-1), atol=1e-5, rtol=1e-4)
