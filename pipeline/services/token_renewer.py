"""Renews TorchServe's inference and management tokens before they expire.

TorchServe 0.12 gives each token `token_expiration_min` minutes and never renews it: after that,
every prediction and management call is refused (400) while /ping still says Healthy. Its token
API (`GET /token?type=inference|management` on the management port, authorised with the "API"
key of key_file.json, which does not expire) replaces one key and resets its expiry, rewriting
key_file.json. This renewer does that `margin` seconds before each expiry; clients read the key
file and re-read it when a key is refused (pipeline/client.py), so traffic goes on across a
renewal.

`TorchServe.start` runs it as its own background process next to the server (stopped with it,
and by `make stop`):

    python -m pipeline.services.token_renewer --run-dir run/torchserve --management-port 8081 \\
        --margin-s 3600 --torchserve-pid 1234
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

import requests

from pipeline.services import LOOPBACK

log = logging.getLogger(__name__)

RENEWED_APIS = ("inference", "management")
MAX_SLEEP_S = 60.0  # look at the key file at least this often (a restart rewrites it)
RETRY_S = 5.0  # after a failed renewal


def expirations(key_file: Path) -> dict[str, datetime]:
    """api -> expiry of its key, from TorchServe's key_file.json."""
    data = json.loads(key_file.read_text(encoding="utf-8"))
    return {api: datetime.fromisoformat(data[api]["expiration time"].replace("Z", "+00:00")) for api in RENEWED_APIS}


def seconds_until_due(expires: dict[str, datetime], margin_s: float, now: datetime) -> dict[str, float]:
    """api -> seconds until its renewal is due (<= 0: due now)."""
    return {api: (at - now).total_seconds() - margin_s for api, at in expires.items()}


def renew(management_port: int, key_file: Path, api: str, timeout: float = 30.0) -> None:
    """Replace one key through TorchServe's token API (authorised with the non-expiring API key)."""
    api_key = json.loads(key_file.read_text(encoding="utf-8"))["API"]["key"]
    response = requests.get(f"http://{LOOPBACK}:{management_port}/token", params={"type": api},
                            headers={"Authorization": f"Bearer {api_key}"}, timeout=timeout)
    if response.status_code != 200:
        raise RuntimeError(f"renewing the {api} token failed: HTTP {response.status_code} {response.text.strip()[:200]}")


def pid_alive(pid: int | None) -> bool:
    if pid is None:
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run(run_dir: Path, management_port: int, margin_s: float, stop: threading.Event,
        torchserve_pid: int | None = None) -> int:
    """Renew each token when due until `stop` is set or TorchServe's process is gone; renewals done."""
    key_file = run_dir / "key_file.json"
    renewed = 0
    while not stop.is_set() and pid_alive(torchserve_pid):
        try:
            due = seconds_until_due(expirations(key_file), margin_s, datetime.now(UTC))
            for api in [a for a, s in due.items() if s <= 0]:
                renew(management_port, key_file, api)
                renewed += 1
                log.info("renewed the %s token (%d renewals so far)", api, renewed)
            pending = seconds_until_due(expirations(key_file), margin_s, datetime.now(UTC))
            wait = min(max(min(pending.values()), 0.5), MAX_SLEEP_S)
        except (OSError, ValueError, KeyError, RuntimeError, requests.RequestException) as exc:
            log.warning("token renewal: %s (retrying in %.0f s)", exc, RETRY_S)
            wait = RETRY_S
        stop.wait(wait)
    return renewed


def check_margin(margin_s: float, expiration_min: float) -> None:
    """A margin of the token lifetime or more would renew without pause."""
    if not 0 < margin_s < expiration_min * 60:
        raise ValueError(f"token renewal margin {margin_s:g} s must be > 0 and below the token lifetime "
                         f"token_expiration_min={expiration_min:g} min")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run-dir", type=Path, required=True, help="TorchServe's run dir (holds key_file.json)")
    parser.add_argument("--management-port", type=int, required=True)
    parser.add_argument("--margin-s", type=float, required=True, help="renew this many seconds before expiry")
    parser.add_argument("--torchserve-pid", type=int, help="exit when this process is gone")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s token-renewer: %(message)s")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    run(args.run_dir, args.management_port, args.margin_s, stop, args.torchserve_pid)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
