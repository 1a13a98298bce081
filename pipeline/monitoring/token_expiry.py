"""TorchServe token expiry as a Prometheus gauge, read from the key file TorchServe writes.

TorchServe 0.12 exports no metric for its tokens, and an expired token turns every client
request into a 400. `key_file.json` holds `"expiration time"` per API (ISO 8601, nanoseconds);
the gauge `torchserve_token_expiry_timestamp_seconds{api}` goes to a node_exporter textfile
that the TorchServeTokenExpiringSoon alert (serve_config/prometheus/rules/tokens.yml) reads.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

GAUGE = "torchserve_token_expiry_timestamp_seconds"
# Python parses at most 6 fraction digits; TorchServe writes 9
_FRACTION = re.compile(r"(\.\d{6})\d+")


def token_expiry(key_file: Path) -> dict[str, float]:
    """{api: expiry as Unix seconds} for every API of the key file that expires (the API key does not)."""
    data = json.loads(key_file.read_text(encoding="utf-8"))
    expiry = {}
    for api, entry in data.items():
        stamp = entry.get("expiration time") if isinstance(entry, dict) else None
        if stamp is not None:
            expiry[api] = datetime.fromisoformat(_FRACTION.sub(r"\1", stamp.replace("Z", "+00:00"))).timestamp()
    if not expiry:
        raise ValueError(f"{key_file}: no token with an 'expiration time' (is token auth on?)")
    return expiry


def write_token_gauges(key_file: Path, out: Path) -> dict[str, float]:
    """Write the expiry gauges to `out` (textfile collector format, replaced atomically); returns them."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    expiry = token_expiry(key_file)
    registry = CollectorRegistry()
    gauge = Gauge(GAUGE, "When the TorchServe token of this API expires (Unix seconds)", ["api"], registry=registry)
    for api, seconds in expiry.items():
        gauge.labels(api).set(seconds)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_to_textfile(str(out), registry)
    return expiry
