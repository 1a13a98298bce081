"""The supervisord config rendered from params: every server the service needs is a program that
restarts on any exit, the token renewer included (without it a supervised TorchServe stops
answering once its tokens expire, token_expiration_min)."""

from __future__ import annotations

import configparser
import shlex

import pytest

from pipeline.services import supervision

PROGRAMS = ("torchserve", "redis", "nginx", "token-renewer")


@pytest.fixture
def rendered(params, tmp_path) -> tuple[supervision.SupervisedStack, configparser.RawConfigParser]:
    stack = supervision.SupervisedStack.from_params(params, run_dir=tmp_path / "supervise", model_store=tmp_path / "store",
                                                    management_port=18081)
    conf = configparser.RawConfigParser()
    conf.read(supervision.render(stack, stable_version="1"))
    return stack, conf


def test_every_program_restarts_on_any_exit(rendered):
    _, conf = rendered
    assert {s.removeprefix("program:") for s in conf.sections() if s.startswith("program:")} == set(PROGRAMS)
    for name in PROGRAMS:
        assert conf.get(f"program:{name}", "autorestart") == "true", name


def test_token_renewer_watches_the_supervised_torchservers_key_file(rendered, params):
    stack, conf = rendered
    command = shlex.split(conf.get("program:token-renewer", "command"))
    assert command[1:3] == ["-m", "pipeline.services.token_renewer"]
    args = dict(zip(command[3::2], command[4::2], strict=True))
    assert args["--run-dir"] == str(stack.torchserve_dir.resolve())  # where the supervised TorchServe writes key_file.json
    assert args["--management-port"] == "18081"
    assert float(args["--margin-s"]) == float(params["serve"]["token_renewal_margin_min"]) * 60
    assert "--torchserve-pid" not in args  # a restarted JVM has another pid: the renewer must outlive it


def test_a_margin_beyond_the_token_lifetime_is_refused(params, tmp_path):
    stack = supervision.SupervisedStack.from_params(params, run_dir=tmp_path / "s", token_renewal_margin_s=10 ** 9)
    with pytest.raises(ValueError, match="token renewal margin"):
        supervision.render(stack, stable_version="1")
