"""Fast proxies for "how good is the generated data": train a cheap classifier on generated rows,
score it on the hand-written realistic dev set.

A full fine-tune takes many minutes on this box; these take seconds (TF-IDF) or a few minutes
(frozen MiniLM embeddings), enough to compare two versions of the generator. They only ever read
`paths.realistic_dev`: the held-out `realistic_test` is never used to tune the generator.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

METHODS = ("tfidf", "minilm-frozen")


def _tfidf_model():
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline, make_union

    features = make_union(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=3),
    )
    return make_pipeline(features, LogisticRegression(max_iter=2000, C=5))


def _minilm_embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Mean-pooled, L2-normalised all-MiniLM-L6-v2 embeddings (frozen encoder), length-sorted batches."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    from pipeline.modeling.encoders import resolve_encoder_path

    torch.set_num_threads(2)
    path = resolve_encoder_path("minilm")
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModel.from_pretrained(path).eval()
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = np.zeros((len(texts), model.config.hidden_size), dtype=np.float32)
    for i in range(0, len(texts), batch_size):
        idx = order[i : i + batch_size]
        enc = tok([texts[j] for j in idx], padding=True, truncation=True, max_length=128, return_tensors="pt")
        with torch.inference_mode():
            hidden = model(**enc).last_hidden_state  # (B, T, H)
        mask = enc["attention_mask"].unsqueeze(-1).float()  # (B, T, 1)
        pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
        out[idx] = pooled.numpy()
    return out


def proxy_accuracy(train_rows: list[dict], dev_rows: list[dict], method: str = "tfidf") -> dict:
    """Accuracy on dev_rows of a cheap classifier fit on train_rows, plus the misclassified dev rows."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x_train = [r["text"] for r in train_rows]
    y_train = [r["intent"] for r in train_rows]
    x_dev = [r["text"] for r in dev_rows]
    if method == "tfidf":
        pred = _tfidf_model().fit(x_train, y_train).predict(x_dev)
    else:
        from sklearn.linear_model import LogisticRegression

        clf = LogisticRegression(max_iter=3000, C=10).fit(_minilm_embed(x_train), y_train)
        pred = clf.predict(_minilm_embed(x_dev))
    errors = [{"text": r["text"], "intent": r["intent"], "predicted": str(p)}
              for r, p in zip(dev_rows, pred, strict=True) if p != r["intent"]]
    return {
        "method": method,
        "accuracy": 1 - len(errors) / len(dev_rows),
        "confusions": Counter((e["intent"], e["predicted"]) for e in errors).most_common(),
        "errors": errors,
    }
