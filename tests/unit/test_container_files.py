"""Dockerfile and compose.yaml, read as text and YAML (no Docker daemon or base image is reachable
here, so nothing is built): every file, port and variable they name exists in the repository, and
the image installs with the same script CI runs."""

from __future__ import annotations

import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from pipeline.config import PROJECT_ROOT
from pipeline.services import s3
from pipeline.services.torchserve import read_properties

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
COMPOSE = PROJECT_ROOT / "compose.yaml"
NGINX_TEMPLATE = PROJECT_ROOT / "serve_config" / "nginx-canary.conf.tmpl"
CODE_DIRS = ("pipeline", "handlers", "model_src")


def instructions(path: Path = DOCKERFILE) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", "\n".join(line for line in path.read_text().splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in text.splitlines() if line.strip()]


def args_of(name: str) -> list[str]:
    return [args for instruction, args in instructions() if instruction == name]


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def install_list(*flags: str) -> list[str]:
    result = subprocess.run([str(PROJECT_ROOT / "scripts" / "install_system.sh"), "--list", *flags],
                            capture_output=True, text=True, check=True, timeout=30)
    return result.stdout.split()


def test_image_installs_with_the_script_ci_runs():
    runs = " ".join(args_of("RUN"))
    assert "scripts/install_system.sh --serving" in runs and "make .venv/.installed" in runs
    # CI: .ci/run -> make test -> install -> check-system -> scripts/install_system.sh on a fresh machine
    # (make system-deps runs the same script), whose full list holds the serving one
    makefile = (PROJECT_ROOT / "Makefile").read_text()
    assert re.search(r"^make test$", (PROJECT_ROOT / ".ci" / "run").read_text(), re.M)
    assert re.search(r"^install: .*check-system", makefile, re.M)
    assert re.search(r"^check-system:.*\n\t@scripts/check_system.sh$", makefile, re.M)
    assert '"$here/install_system.sh"' in (PROJECT_ROOT / "scripts" / "check_system.sh").read_text()
    assert re.search(r"^system-deps:.*\n\t@scripts/install_system.sh$", makefile, re.M)
    assert set(install_list("--serving")) <= set(install_list())
    assert {"openjdk-17-jre-headless", "python3-venv", "curl", "prometheus"} <= set(install_list())


def test_every_copied_file_exists_and_passes_dockerignore():
    ignore = (PROJECT_ROOT / ".dockerignore").read_text().splitlines()
    allowed = [line[1:].rstrip("/") for line in ignore if line.startswith("!")]
    assert "*" in ignore  # everything else stays out of the build context (data, models, .venv, run/)
    for args in args_of("COPY"):
        *sources, _dest = shlex.split(args)
        for source in sources:
            assert (PROJECT_ROOT / source).exists(), f"COPY {source}: no such file"
            assert any(source.rstrip("/") == a or source.startswith(a + "/") for a in allowed), \
                f"COPY {source} is excluded by .dockerignore"


def test_serving_image_runs_unprivileged_with_a_ping_healthcheck():
    users = args_of("USER")
    assert users and users[-1] not in ("root", "0")
    assert f"--create-home --uid 10001 {users[-1]}" in " ".join(args_of("RUN"))
    (healthcheck,) = args_of("HEALTHCHECK")
    inference_port = re.search(r"inference_address=http://0\.0\.0\.0:(\d+)", " ".join(args_of("RUN"))).group(1)
    assert f"http://127.0.0.1:{inference_port}/ping" in healthcheck


def test_container_config_only_changes_keys_config_properties_has():
    edited = re.findall(r"s#\^(\w+)=", " ".join(args_of("RUN")))
    assert sorted(edited) == ["allowed_urls", "inference_address", "metrics_address", "model_store"]
    assert set(edited) <= set(read_properties(PROJECT_ROOT / "config.properties"))


def test_cmd_names_files_the_image_holds_and_the_served_model(params):
    cmd = yaml.safe_load(args_of("CMD")[-1])  # exec form: a JSON list
    assert cmd[0] == "torchserve"
    assert cmd[cmd.index("--log-config") + 1] == "/app/serve_config/log4j2.xml"
    assert "COPY serve_config/log4j2.xml serve_config/log4j2.xml" in [f"COPY {a}" for a in args_of("COPY")]
    assert cmd[cmd.index("--ts-config") + 1] == "/app/run/config.properties"  # written by the sed RUN above
    assert cmd[cmd.index("--models") + 1] == f"{params['serve']['model_name']}={params['serve']['model_name']}.mar"


def test_compose_has_each_server_with_a_health_check(services):
    assert {"torchserve", "redis", "canary-proxy", "mlflow", "s3"} <= set(services)
    for name, service in services.items():
        # the torchserve service is the image built here, whose HEALTHCHECK applies
        assert "healthcheck" in service or service.get("build") == ".", f"{name} has no health check"
        for dep, cond in (service.get("depends_on") or {}).items():
            assert dep in services and cond == {"condition": "service_healthy"}


def test_compose_ports_are_on_host_loopback_and_match_the_servers(services):
    exposed = set(args_of("EXPOSE")[0].split())
    for name, service in services.items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond the host's loopback"
    assert {p.rsplit(":", 1)[1] for p in services["torchserve"]["ports"]} == exposed
    proxy = services["canary-proxy"]["environment"]
    assert proxy["upstream"] == "torchserve:8080" and "8080" in exposed
    assert services["canary-proxy"]["ports"] == [f"127.0.0.1:{proxy['listen']}:{proxy['listen']}"]
    assert "-s3.port=8333" in services["s3"]["command"]
    assert services["mlflow"]["environment"]["MLFLOW_S3_ENDPOINT_URL"] == "http://s3:8333"
    assert "--port" in services["mlflow"]["command"] and "5000" in services["mlflow"]["ports"][0]
    assert services["torchserve"]["environment"]["INTENT_REDIS_URL"] == "redis://redis:6379/0"


def test_compose_mounts_existing_files_and_declared_volumes(compose, services):
    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("."):
                assert (PROJECT_ROOT / source).exists(), f"{name} mounts {source}: no such file"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"


def code_mentions(name: str) -> bool:
    word = re.compile(rf"\b{re.escape(name)}\b")
    return any(word.search(path.read_text(errors="replace")) for d in CODE_DIRS for path in (PROJECT_ROOT / d).rglob("*.py"))


def test_project_image_services_set_only_variables_the_code_reads(services):
    for name, service in services.items():
        if service.get("image") != services["torchserve"]["image"]:
            continue
        for variable in service.get("environment", {}):
            assert code_mentions(variable), f"{name} sets {variable}, which nothing in {CODE_DIRS} reads"


def test_compose_s3_credentials_fall_back_to_the_local_dev_keys():
    text = COMPOSE.read_text()
    assert f"${{AWS_ACCESS_KEY_ID:-{s3.DEV_ACCESS_KEY}}}" in text
    assert f"${{AWS_SECRET_ACCESS_KEY:-{s3.DEV_SECRET_KEY}}}" in text


def test_mlflow_artifacts_bucket_is_created_by_the_s3_service(services):
    command = services["mlflow"]["command"]
    bucket = command[command.index("--artifacts-destination") + 1].removeprefix("s3://")
    buckets = next(a for a in services["s3"]["command"] if a.startswith("-bucket=")).split("=", 1)[1].split(",")
    assert bucket in buckets and set(s3.DEFAULT_BUCKETS) <= set(buckets)


def test_canary_proxy_sets_every_placeholder_of_the_nginx_template(services, params):
    env = services["canary-proxy"]["environment"]
    placeholders = set(re.findall(r"\$\{(\w+)\}", NGINX_TEMPLATE.read_text()))
    assert placeholders <= set(env), f"template placeholders without a value: {placeholders - set(env)}"
    assert env["model_name"] == params["serve"]["model_name"]
    template_mount = next(v for v in services["canary-proxy"]["volumes"] if "nginx-canary" in v)
    target = template_mount.split(":")[1]
    assert target == f"{env['NGINX_ENVSUBST_TEMPLATE_DIR']}/{NGINX_TEMPLATE.name}"
    assert NGINX_TEMPLATE.name.endswith(env["NGINX_ENVSUBST_TEMPLATE_SUFFIX"])
    rendered = f"{env['NGINX_ENVSUBST_OUTPUT_DIR']}/{NGINX_TEMPLATE.name.removesuffix(env['NGINX_ENVSUBST_TEMPLATE_SUFFIX'])}"
    assert f"nginx -c {rendered}" in " ".join(services["canary-proxy"]["command"])
    # compose turns $$ into $: nginx's own variables reach the template intact
    assert "$$request_id" in COMPOSE.read_text() and not re.search(r"(?<!\$)\$request_id", COMPOSE.read_text())
