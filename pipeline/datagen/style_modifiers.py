"""Answer-style modifiers: words that say HOW to answer, never WHAT is wanted.

People add "step by step", "in detail", "with examples", "keep it short", "hey," or "urgent:" to
any prompt; the intent must not move (CheckList's invariance tests, Ribeiro et al. 2020). The
generator applies these to every intent with the same probability, so they carry no label signal.

A second, different list is kept out of training (params eval.invariance.held_out_modifiers) and
only the evaluation reads it: invariance measured on modifiers the model never saw.

A modifier is a template around the prompt `{p}`; `{p_lower}` is the prompt lowercased. Those
marked as constraints (format, length, audience, depth) count as one for the complexity level.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Modifier:
    template: str
    constraint: bool = False

    def apply(self, text: str) -> str:
        text = text.strip()
        return self.template.replace("{p_lower}", text.lower()).replace("{p}", text)


def _m(template: str, constraint: bool = False) -> Modifier:
    return Modifier(template, constraint)


# Seen in training (30 + a transform). Each names a way of answering, none a deliverable.
STYLE_MODIFIERS: tuple[Modifier, ...] = (
    _m("{p} Please explain in detail.", True),
    _m("{p} Step by step, please.", True),
    _m("{p} Give examples.", True),
    _m("{p} Compare the alternatives.", True),
    _m("{p} Explain your reasoning.", True),
    _m("{p} Consider edge cases.", True),
    _m("{p} Keep it short.", True),
    _m("{p} Use bullet points.", True),
    _m("{p} Answer in under 100 words.", True),
    _m("{p} Make it beginner friendly.", True),
    _m("{p} Be concise but thorough.", True),
    _m("{p} Format the answer as a table.", True),
    _m("{p} Explain it like I'm five.", True),
    _m("{p} I need this ASAP."),
    _m("{p} Thanks in advance!"),
    _m("Hey, {p}"),
    _m("Quick question: {p}"),
    _m("Please help me. {p}"),
    _m("I'm a beginner. {p}", True),
    _m("For a presentation at work: {p}", True),
    _m("Urgent: {p}"),
    _m("Act as an expert. {p}", True),
    _m("Provide a comprehensive analysis. {p}", True),
    # length and register requests: left to the summarization bank alone ("one paragraph only",
    # "in plain English") they taught "short / plain" = summarization (dev-set invariance, first run)
    _m("{p} One paragraph is enough.", True),
    _m("{p} In plain English, please.", True),
    _m("{p} Three sentences max.", True),
    _m("{p} Use everyday words.", True),
    _m("{p} Be brief.", True),
    _m("{p} Give me the long version.", True),
    _m("{p} No jargon please.", True),
    _m("{p_lower}"),
)

def load_modifiers(path: Path) -> tuple[Modifier, ...]:
    """One template per line (`#` comments and blank lines skipped); each must contain {p}."""
    modifiers = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "{p}" not in line and "{p_lower}" not in line:
            raise ValueError(f"{path}:{number}: a modifier must contain {{p}}: {line!r}")
        modifiers.append(Modifier(line))
    return tuple(modifiers)


def draw_modifiers(rng: random.Random, ratio: float) -> list[Modifier]:
    """None (1 - ratio), one, or (a tenth of the time) two different modifiers."""
    if rng.random() >= ratio:
        return []
    return rng.sample(STYLE_MODIFIERS, 2 if rng.random() < 0.1 else 1)
