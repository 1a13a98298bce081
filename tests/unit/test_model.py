"""The model on a tiny random encoder: shapes, freezing, save/load, tokenizer overrides, Predictor."""

from __future__ import annotations

import json

import pytest
import torch

from model_src.features import FEATURE_NAMES, extract_features
from model_src.intent_classifier_model import POOLINGS, IntentClassifier, load_tokenizer

TEXTS = ["hi", "Write a Python function that reverses a list, with tests and docstrings please"]


def make_model(encoder_dir, intents, levels, **kw) -> IntentClassifier:
    torch.manual_seed(0)
    return IntentClassifier.from_encoder(encoder_dir, intents=intents, complexity_levels=levels, **kw)


def batch(tokenizer, texts=TEXTS):
    return tokenizer(texts, padding=True, truncation=True, max_length=32, return_tensors="pt")


@pytest.fixture(scope="module")
def tokenizer(tiny_encoder_dir):
    return load_tokenizer(tiny_encoder_dir, 32)


def test_tokenizer_pads_dynamically_not_to_128(tokenizer):
    enc = tokenizer(TEXTS, padding=True)
    assert len(enc["input_ids"][0]) == len(enc["input_ids"][1]) < 128
    assert len(tokenizer(["hi"])["input_ids"][0]) == 3  # [CLS] hi [SEP], no fixed padding
    assert tokenizer.backend_tokenizer.padding is None


@pytest.mark.parametrize("pooling", POOLINGS)
def test_forward_backward_shapes_every_pooling(tiny_encoder_dir, tokenizer, intents, params, pooling):
    levels = params["complexity_levels"]
    model = make_model(tiny_encoder_dir, intents, levels, pooling=pooling, feature_names=FEATURE_NAMES)
    b = batch(tokenizer)
    feats = torch.from_numpy(extract_features(TEXTS))
    intent_logits, level_logits, score = model(b["input_ids"], b["attention_mask"], b["token_type_ids"], feats)
    assert intent_logits.shape == (2, len(intents))
    assert level_logits.shape == (2, len(levels))
    assert score.shape == (2,) and bool(((score >= 0) & (score <= 1)).all())
    loss = IntentClassifier.loss((intent_logits, level_logits, score), torch.tensor([0, 2]), torch.tensor([0, 1]),
                                 torch.tensor([0.1, 0.6]), complexity_weight=0.3)
    loss.backward()
    assert model.intent_head.weight.grad is not None
    assert model.encoder.embeddings.word_embeddings.weight.grad.abs().sum() > 0


def test_padding_does_not_change_pooled_output(tiny_encoder_dir, tokenizer, intents, params):
    """A row alone and the same row padded in a batch give the same logits (masks are honoured)."""
    for pooling in POOLINGS:
        model = make_model(tiny_encoder_dir, intents, params["complexity_levels"], pooling=pooling).eval()
        with torch.no_grad():
            alone = model(**batch(tokenizer, TEXTS[:1]))[0]
            padded = model(**batch(tokenizer, TEXTS))[0][:1]
        torch.testing.assert_close(alone, padded, atol=1e-5, rtol=1e-4, msg=f"pooling={pooling}")


def test_unknown_pooling_is_refused(tiny_encoder_dir, intents, params):
    with pytest.raises(ValueError, match="pooling"):
        make_model(tiny_encoder_dir, intents, params["complexity_levels"], pooling="sum")


def test_freezing_really_freezes(tiny_encoder_dir, tokenizer, intents, params):
    model = make_model(tiny_encoder_dir, intents, params["complexity_levels"], freeze_embeddings=True, freeze_layers=1)
    frozen = {n: p.clone() for n, p in model.named_parameters() if n.startswith(("encoder.embeddings", "encoder.encoder.layer.0."))}
    assert frozen and all(not p.requires_grad for n, p in model.named_parameters() if n in frozen)
    trainable = [p for p in model.parameters() if p.requires_grad]
    assert any(n.startswith("encoder.encoder.layer.1.") and p.requires_grad for n, p in model.named_parameters())
    opt = torch.optim.AdamW(trainable, lr=0.1)
    for _ in range(2):
        out = model(**batch(tokenizer))
        IntentClassifier.loss(out, torch.tensor([1, 2]), torch.tensor([0, 2]), torch.tensor([0.0, 1.0]), 1.0).backward()
        opt.step()
        opt.zero_grad()
    params_now = dict(model.named_parameters())
    for name, before in frozen.items():
        assert torch.equal(params_now[name], before), name
    assert not torch.equal(params_now["encoder.encoder.layer.1.output.dense.weight"],
                           make_model(tiny_encoder_dir, intents, params["complexity_levels"]).state_dict()["encoder.encoder.layer.1.output.dense.weight"])


def test_freezing_more_layers_than_exist_is_refused(tiny_encoder_dir, intents, params):
    with pytest.raises(ValueError, match="freeze_layers"):
        make_model(tiny_encoder_dir, intents, params["complexity_levels"], freeze_layers=5)


def test_save_load_identical_logits_no_pickle(tmp_path, tiny_encoder_dir, tokenizer, intents, params):
    model = make_model(tiny_encoder_dir, intents, params["complexity_levels"], pooling="attention",
                       feature_names=FEATURE_NAMES, feature_mean=[0.5] * len(FEATURE_NAMES),
                       feature_std=[0.2] * len(FEATURE_NAMES)).eval()
    model.save_pretrained(tmp_path / "m", tokenizer=tokenizer)
    files = {p.name for p in (tmp_path / "m").iterdir()}
    assert {"model.safetensors", "model_config.json", "tokenizer.json"} <= files
    assert not any(name.endswith((".bin", ".pt", ".pkl")) for name in files)
    config = json.loads((tmp_path / "m" / "model_config.json").read_text())
    assert config["intents"] == intents and config["feature_mean"][0] == 0.5 and config["pooling"] == "attention"

    loaded = IntentClassifier.from_pretrained(tmp_path / "m")
    b = batch(load_tokenizer(tmp_path / "m", 32))
    feats = torch.from_numpy(extract_features(TEXTS))
    with torch.no_grad():
        for a, c in zip(model(**b, features=feats), loaded(**b, features=feats), strict=True):
            assert torch.equal(a, c)


def test_missing_weights_named_in_error(tmp_path):
    (tmp_path / "model_config.json").write_text("{}")
    with pytest.raises(FileNotFoundError, match="model.safetensors"):
        IntentClassifier.from_pretrained(tmp_path)


def test_model_needing_features_says_so(tiny_encoder_dir, tokenizer, intents, params):
    model = make_model(tiny_encoder_dir, intents, params["complexity_levels"], feature_names=FEATURE_NAMES)
    with pytest.raises(ValueError, match="complexity features"):
        model(**batch(tokenizer))


def test_predictor_contract_and_calibration(tmp_path, tiny_encoder_dir, tokenizer, intents, params):
    from pipeline.modeling.predict import Predictor

    model = make_model(tiny_encoder_dir, intents, params["complexity_levels"], feature_names=FEATURE_NAMES)
    model.save_pretrained(tmp_path, tokenizer=tokenizer)
    texts = ["short", "a much longer prompt " * 20, "medium sized prompt here"]
    predictor = Predictor(tmp_path)
    probs, level_probs, score = predictor.predict_proba(texts)
    assert probs.shape == (3, len(intents)) and level_probs.shape == (3, 3) and score.shape == (3,)
    # order-independent: sorted batching puts rows back where they came from
    probs_one = predictor.predict_proba([texts[1]])[0]
    assert abs(probs_one - probs[1:2]).max() < 1e-5
    out = predictor.predict(texts)
    assert [set(o) for o in out] == [{"intent", "confidence", "probabilities", "complexity"}] * 3
    assert out[0]["intent"] == max(out[0]["probabilities"], key=out[0]["probabilities"].get)
    assert abs(sum(out[0]["probabilities"].values()) - 1) < 1e-5
    assert out[0]["complexity"]["level"] in params["complexity_levels"]

    (tmp_path / "calibration.json").write_text(json.dumps({"temperature": 100.0}))
    flat = Predictor(tmp_path).predict_proba(texts)[0]
    assert flat.max() < probs.max()  # a high temperature flattens the distribution
    with pytest.raises(TypeError):
        predictor.predict_proba("not a list")
