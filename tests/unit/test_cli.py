"""The scripts' shared opening (pipeline.cli): one --params flag, the old --config still read, --help everywhere."""

from __future__ import annotations

import importlib

import pytest

from pipeline import cli
from pipeline.config import DEFAULT_PARAMS_PATH, PROJECT_ROOT

SCRIPTS = sorted(p.stem for p in (PROJECT_ROOT / "scripts").glob("*.py"))


def test_params_flag_default_and_hidden_old_name(tmp_path, capsys):
    parser = cli.parser("doc")
    assert parser.parse_args([]).params == DEFAULT_PARAMS_PATH
    assert parser.parse_args(["--config", str(tmp_path / "p.yaml")]).params == tmp_path / "p.yaml"
    assert parser.parse_args(["--params", str(tmp_path / "q.yaml")]).params == tmp_path / "q.yaml"
    help_text = parser.format_help()
    assert "--params" in help_text and "--config" not in help_text


def test_unreadable_params_file_exits_2_naming_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.start(cli.parser("doc"), ["--params", str(tmp_path / "missing.yaml")])
    assert exc.value.code == 2 and "missing.yaml" in capsys.readouterr().err


@pytest.mark.parametrize("name", SCRIPTS)
def test_every_script_has_a_working_help(name, capsys):
    main = importlib.import_module(f"scripts.{name}").main
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    out = capsys.readouterr().out
    assert exc.value.code == 0 and out.startswith("usage:")
    assert "--config" not in out.split("\n\n")[0]  # only the hidden alias, never offered
