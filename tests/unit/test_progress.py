"""Progress bars draw only on a terminal; in a log file (pytest's captured stderr is one) each stage
is one log line, and every bar in pipeline/ comes from pipeline.progress."""

from __future__ import annotations

import ast
import logging
import sys

from tqdm import tqdm

from pipeline.config import PROJECT_ROOT
from pipeline.progress import LoggedStage, progress_bar


def test_off_a_terminal_a_stage_is_one_log_line_and_no_bar(capsys, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.progress")
    assert sum(progress_bar(range(500), desc="scoring", unit="batch")) == sum(range(500))
    with progress_bar(total=3, desc="augment", unit="row") as bar:
        for _ in range(3):
            bar.update(1)
        bar.set_postfix(loss="0.123")
    assert capsys.readouterr().err == ""
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert lines[0].startswith("scoring: 500/500 batch in ")
    assert lines[1].startswith("augment: 3/3 row in ") and lines[1].endswith(", loss=0.123")


def test_a_stage_left_early_logs_how_far_it_got(caplog):
    caplog.set_level(logging.INFO, logger="pipeline.progress")
    for step in progress_bar(range(1, 5), desc="canary steps", unit="step"):
        if step == 2:
            break
    assert [r.getMessage().split(" in ")[0] for r in caplog.records] == ["canary steps: 1/4 step"]


def test_on_a_terminal_it_is_a_tqdm_bar(monkeypatch):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    bar = progress_bar(total=2, desc="HPO trials", unit="trial")
    try:
        assert isinstance(bar, tqdm) and not isinstance(bar, LoggedStage)
    finally:
        bar.close()


def test_disabled_shows_and_logs_nothing(capsys, caplog):
    caplog.set_level(logging.INFO, logger="pipeline.progress")
    with progress_bar(total=2, desc="epoch 1/1", disable=True) as bar:
        bar.update(2)
    assert capsys.readouterr().err == "" and caplog.records == []


def test_every_progress_bar_in_pipeline_goes_through_the_helper():
    helper = PROJECT_ROOT / "pipeline" / "progress.py"
    importing_tqdm = []
    for path in sorted((PROJECT_ROOT / "pipeline").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if path != helper and any(n.split(".")[0] == "tqdm" for n in names):
                importing_tqdm.append(str(path.relative_to(PROJECT_ROOT)))
    assert importing_tqdm == []
