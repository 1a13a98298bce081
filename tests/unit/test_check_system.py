"""scripts/check_system.sh (run by `make install`): missing Debian packages are installed in the chain
when the user is root or has passwordless sudo, with a line saying so; otherwise the run stops
with the fix. dpkg-query, id, sudo, apt-get, systemctl and java are stubs on PATH that record
their calls, so nothing is installed."""

from __future__ import annotations

import os
import subprocess

import pytest

from pipeline.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "scripts" / "check_system.sh"


def listed_packages() -> list[str]:
    """The one package list, as scripts/install_system.sh prints it."""
    return subprocess.run([str(PROJECT_ROOT / "scripts" / "install_system.sh"), "--list"],
                          capture_output=True, text=True, check=True).stdout.split()
STUBS = {
    # installed: only what $INSTALLED lists
    "dpkg-query": 'case " $INSTALLED " in *" ${@: -1} "*) printf "install ok installed";; esac',
    "id": 'echo "$FAKE_UID"',
    # passwordless when $SUDO_OK is set; runs the command, as sudo would
    "sudo": 'echo "sudo $*" >> "$CALLS"; [ "$1" = -n ] && shift; [ -n "$SUDO_OK" ] || exit 1; "$@"',
    "apt-get": 'echo "apt-get $*" >> "$CALLS"',
    "systemctl": "true",
    "java": """echo 'openjdk version "17.0.13"' >&2""",
}


@pytest.fixture
def run_check(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        (bin_dir / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    calls = tmp_path / "calls"

    def run(*args: str, uid: int, sudo_ok: bool, installed: str = "") -> tuple[subprocess.CompletedProcess, list[str]]:
        env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_UID": str(uid),
               "SUDO_OK": "1" if sudo_ok else "", "INSTALLED": installed, "CALLS": str(calls)}
        result = subprocess.run(["bash", str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=30)
        recorded = calls.read_text().splitlines() if calls.exists() else []
        calls.unlink(missing_ok=True)
        return result, recorded

    return run


def test_root_installs_what_is_missing_and_says_so(run_check):
    result, calls = run_check(uid=0, sudo_ok=False, installed="nginx wrk")
    assert result.returncode == 0, result.stderr
    assert "installing them now" in result.stdout and "redis-server" in result.stdout
    install = [c for c in calls if c.startswith("apt-get install")]
    missing = [p for p in listed_packages() if p not in ("nginx", "wrk")]
    assert install == ["apt-get install -y -q --no-install-recommends " + " ".join(missing)]


def test_passwordless_sudo_installs_through_sudo(run_check):
    result, calls = run_check(uid=1000, sudo_ok=True)
    assert result.returncode == 0, result.stderr
    assert any(c.startswith("sudo -n apt-get install") for c in calls)


def test_without_root_or_sudo_it_stops_with_the_fix(run_check):
    result, calls = run_check(uid=1000, sudo_ok=False, installed="nginx")
    assert result.returncode == 1
    assert "fix: make system-deps" in result.stderr
    assert not [c for c in calls if "apt-get" in c]


def test_nothing_missing_installs_nothing(run_check):
    everything = " ".join(listed_packages())
    result, calls = run_check(uid=0, sudo_ok=True, installed=everything)
    assert (result.returncode, result.stdout, calls) == (0, "", [])
