"""The DeBERTa-v3 path (`model.base: <deberta-v3-base dir>`) with a tiny random v3-shaped model.

Real deberta-v3-base weights cannot be downloaded here, so the same loading code runs on a
2-layer DeBERTa-v2 model configured like v3 (relative attention with log buckets, p2c|c2p,
no absolute positions, no token types) and a sentencepiece unigram model trained on the spot.
"""

from __future__ import annotations

import random

import pytest
import sentencepiece as spm
import torch
from transformers import DebertaV2Config, DebertaV2Model, DebertaV2Tokenizer

from model_src.intent_classifier_model import IntentClassifier, load_tokenizer
from pipeline.modeling.predict import Predictor
from pipeline.modeling.train import run_training
from tests.conftest import TINY_ROWS
from tests.train_helpers import tiny_params


@pytest.fixture(scope="module")
def deberta_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("deberta_v3_tiny")
    words = " ".join(t for texts in TINY_ROWS.values() for t in texts).split()
    rng = random.Random(0)
    sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 15))) for _ in range(400)]
    # the special-token layout of deberta-v3's spm.model: [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_prefix=str(out / "spm"), vocab_size=200, model_type="unigram",
        pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]", bos_piece="[CLS]", eos_piece="[SEP]",
        unk_piece="[UNK]", user_defined_symbols=["[MASK]"], minloglevel=2,
    )
    tokenizer = DebertaV2Tokenizer.from_pretrained(str(out))  # from the directory: vocab_file= alone maps to [UNK]
    config = DebertaV2Config(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=512, relative_attention=True, position_buckets=32, max_relative_positions=-1,
        pos_att_type=["p2c", "c2p"], norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False,
        type_vocab_size=0, pad_token_id=0, hidden_act="gelu",
    )
    torch.manual_seed(0)
    DebertaV2Model(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def test_sentencepiece_tokenizer_is_real_not_unk(deberta_dir):
    tok = load_tokenizer(deberta_dir, 64)
    ids = tok("Write a short poem about autumn rain")["input_ids"]
    assert ids[0] == 1 and ids[-1] == 2  # [CLS] ... [SEP]
    assert sum(i == tok.unk_token_id for i in ids) == 0


def test_deberta_v3_trains_saves_and_loads_end_to_end(tmp_path, params, deberta_dir, tiny_rows):
    p = tiny_params(params, tmp_path, deberta_dir, tiny_rows, epochs=2, batch_size=10)
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
