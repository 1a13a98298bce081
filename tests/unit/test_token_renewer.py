"""The token renewer's schedule and its refusal of a margin that would renew without pause;
against a small local server standing in for TorchServe's token API."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import ThreadingHTTPServer

import pytest

from pipeline.services import token_renewer
from tests.http_helpers import JsonHandler


def write_keys(path, expires: dict[str, datetime]) -> None:
    path.write_text(json.dumps({api: {"key": f"{api}-key", "expiration time": at.isoformat().replace("+00:00", "Z")}
                                for api, at in expires.items()} | {"API": {"key": "api-key"}}))


def test_renewal_is_due_margin_seconds_before_each_expiry(tmp_path):
    now = datetime(2026, 1, 1, tzinfo=UTC)
    write_keys(tmp_path / "key_file.json", {"inference": now + timedelta(minutes=30), "management": now + timedelta(minutes=5)})
    due = token_renewer.seconds_until_due(token_renewer.expirations(tmp_path / "key_file.json"), 600, now)
    assert due == {"inference": 1200.0, "management": -300.0}


@pytest.mark.parametrize("margin_s", [0, -1, 60 * 1440, 60 * 2000])
def test_a_margin_outside_the_token_lifetime_is_refused(margin_s):
    with pytest.raises(ValueError, match="token_expiration_min"):
        token_renewer.check_margin(margin_s, 1440)


def test_due_tokens_are_renewed_with_the_api_key_and_the_rest_wait(tmp_path):
    key_file = tmp_path / "key_file.json"
    now = datetime.now(UTC)
    write_keys(key_file, {"inference": now + timedelta(seconds=1), "management": now + timedelta(hours=1)})
    seen = []

    class TokenApi(JsonHandler):
        def do_GET(self):  # like TorchServe: a new expiry for the renewed key, file rewritten
            seen.append((self.path, self.headers.get("Authorization")))
            keys = token_renewer.expirations(key_file)
            keys[self.path.split("type=")[1]] = datetime.now(UTC) + timedelta(hours=1)
            write_keys(key_file, keys)
            self.reply(200, {})

    server = ThreadingHTTPServer(("127.0.0.1", 0), TokenApi)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    try:
        renewed = token_renewer.run(tmp_path, server.server_address[1], margin_s=60, stop=stop)
    finally:
        server.shutdown()
        server.server_close()
    assert renewed == 1
    assert seen == [("/token?type=inference", "Bearer api-key")]
