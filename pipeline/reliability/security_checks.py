"""Checks of the hardened defaults that tests and `make reliability` share: listener addresses
(configured and actually bound), and a secret scan of the files git tracks.

Listening sockets are read with psutil (a TorchServe dependency) for a whole process tree,
because TorchServe's JVM starts Python workers that could open their own listeners.
"""

from __future__ import annotations

import ipaddress
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import psutil

from pipeline.config import PROJECT_ROOT

ADDRESS_KEYS = ("inference_address", "management_address", "metrics_address")
LOOPBACK_NAMES = {"localhost"}

# Patterns of real credentials (not of words like "secret"): cloud keys, tokens, private keys.
SECRET_PATTERNS = {
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "AWS secret access key": re.compile(r"(?i)aws_secret_access_key\s*[:=]\s*['\"]?[A-Za-z0-9/+]{40}\b"),
    "private key": re.compile(r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Hugging Face token": re.compile(r"\bhf_[A-Za-z0-9]{34,}\b"),
    "Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b"),
    "OpenAI-style key": re.compile(r"\bsk-[A-Za-z0-9_-]{32,}\b"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    # user:password@ in a URL, unless the password is a template ({...}, <...>, $VAR) or the word itself
    "password in a URL": re.compile(
        r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"]+:(?!(?:password|pass|secret)@)[^\s:/@'\"${}<>]{6,}@", re.IGNORECASE
    ),
}
# Files that hold credentials by their name (TorchServe writes key_file.json next to itself).
SECRET_FILE_NAMES = re.compile(r"(^|/)(key_file\.json|\.env(\.[^/]*)?|id_rsa|id_ed25519|[^/]*\.pem|[^/]*\.p12|credentials)$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int  # 0 for a finding about the file itself
    kind: str


def is_loopback_host(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)  # Java reports IPv4 listeners as ::ffff:127.0.0.1
    return (mapped or ip).is_loopback


def configured_listeners(properties: dict[str, str]) -> dict[str, str]:
    """address key -> host for every listener a TorchServe config names (missing keys count as
    TorchServe's default, which is 127.0.0.1 for these three)."""
    return {key: urlparse(properties[key]).hostname or "" for key in ADDRESS_KEYS if key in properties}


def process_tree(pid: int) -> list[psutil.Process]:
    root = psutil.Process(pid)
    return [root, *root.children(recursive=True)]


def listening_sockets(pid: int) -> list[tuple[int, str, int]]:
    """(pid, ip, port) of every TCP socket in LISTEN state owned by pid or its descendants."""
    found = []
    for proc in process_tree(pid):
        try:
            connections = proc.net_connections(kind="tcp")
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found += [(proc.pid, c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN]
    return sorted(set(found))


def tracked_files(root: Path = PROJECT_ROOT) -> list[str]:
    result = subprocess.run(["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True)
    return [p for p in result.stdout.decode("utf-8", "replace").split("\0") if p]


def scan_secrets(root: Path = PROJECT_ROOT, files: list[str] | None = None) -> tuple[int, list[Finding]]:
    """(files scanned, findings) over the files git tracks: credential-named files, key patterns."""
    files = tracked_files(root) if files is None else files
    findings = []
    for rel in files:
        if SECRET_FILE_NAMES.search(rel):
            findings.append(Finding(rel, 0, "credential file name"))
        path = root / rel
        if not path.is_file() or path.stat().st_size > 5_000_000:
            continue
        raw = path.read_bytes()
        if b"\0" in raw[:8192]:  # binary
            continue
        for number, line in enumerate(raw.decode("utf-8", "replace").splitlines(), 1):
            for kind, pattern in SECRET_PATTERNS.items():
                if pattern.search(line):
                    findings.append(Finding(rel, number, kind))
    return len(files), findings
