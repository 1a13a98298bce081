"""`--live-examples`: show what the model says about a few prompts, then let a person type more.

The built-in prompts are written like people write (one per intent, terse to wordy); they are a
smoke check for a human, not a metric. The interactive loop runs only when stdin is a terminal,
so CI and pipes never block on it.
"""

from __future__ import annotations

import sys
from typing import TextIO

LIVE_PROMPTS = [
    "what's the difference between a virus and a bacteria",
    "write me a limerick about a cat who hates mondays",
    "can you write a bash one-liner that finds the 10 biggest files in a folder",
    "here are our weekly signups: 120, 135, 128, 90, 160, 171. anything weird going on?",
    "If Anna is older than Ben and Ben is older than Cara, who is the youngest? explain",
    "tl;dr this please: The committee met for three hours and agreed to postpone the vote until March...",
    "how do you say 'where is the train station' in portuguese",
    "ugh, long day. just want to chat for a bit",
    "help me plan a two week roadmap to launch a small newsletter",
    "my laptop fan is super loud even when nothing is running, what should I try?",
]


def format_prediction(text: str, pred: dict, top_k: int = 3) -> str:
    """Two lines per prompt: the prompt, then intent, confidence, top-k and complexity."""
    top = sorted(pred["probabilities"].items(), key=lambda kv: -kv[1])[:top_k]
    shown = text if len(text) <= 90 else text[:89] + "…"
    cplx = pred["complexity"]
    return (
        f"> {shown}\n"
        f"  {pred['intent']} ({pred['confidence']:.2f})  top-{top_k}: "
        + ", ".join(f"{name} {p:.2f}" for name, p in top)
        + f"  complexity: {cplx['level']} ({cplx['score']:.2f})"
    )


def show_examples(
    predictor, texts: list[str] = LIVE_PROMPTS, out: TextIO = sys.stdout, top_k: int = 3
) -> list[dict]:
    preds = predictor.predict(list(texts))
    print("Live examples (calibrated probabilities):", file=out)
    for text, pred in zip(texts, preds, strict=True):
        print(format_prediction(text, pred, top_k), file=out)
    return preds


def interactive(predictor, inp: TextIO = sys.stdin, out: TextIO = sys.stdout, top_k: int = 3) -> int:
    """Read prompts line by line until EOF or an empty line; returns how many were answered."""
    print("Type a prompt and press Enter (empty line or Ctrl-D to stop).", file=out)
    answered = 0
    while True:
        print("prompt> ", end="", file=out, flush=True)
        line = inp.readline()
        if not line or not line.strip():
            print(file=out)
            return answered
        text = line.strip()
        print(format_prediction(text, predictor.predict([text])[0], top_k), file=out)
        answered += 1
