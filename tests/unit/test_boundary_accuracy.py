"""Accuracy per written boundary, from the `boundary` tag of hand-written rows."""

from __future__ import annotations

import json

from pipeline.evaluation.evaluate import boundary_accuracy


def test_boundary_rows_are_scored_per_boundary_and_untagged_rows_ignored(tmp_path):
    path = tmp_path / "set.jsonl"
    rows = [
        {"text": "pros and cons of x", "intent": "question_answering", "complexity": "simple",
         "boundary": "question_answering|reasoning"},
        {"text": "is this argument valid", "intent": "reasoning", "complexity": "simple",
         "boundary": "question_answering|reasoning"},
        {"text": "my code crashes", "intent": "code_generation", "complexity": "simple",
         "boundary": "code_generation|problem_solving"},
        {"text": "what is x", "intent": "question_answering", "complexity": "simple"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n")
    predicted = ["question_answering", "question_answering", "code_generation", "reasoning"]
    predictions = [{"text": r["text"], "intent": r["intent"], "predicted": p} for r, p in zip(rows, predicted, strict=True)]
    assert boundary_accuracy(path, predictions) == {
        "code_generation|problem_solving": {"n": 1, "accuracy": 1.0},
        "question_answering|reasoning": {"n": 2, "accuracy": 0.5},
    }
