"""The canary proxy's config: weight blocks, placeholders, and a render nginx itself accepts."""

from __future__ import annotations

import pytest

from pipeline.services.nginx import (
    NginxProxy,
    ProxyLimits,
    Routing,
    access_log_size,
    nginx_binary,
    read_access_log,
    render,
    split_block,
)

LIMITS = ProxyLimits(max_body_bytes=65536, requests_per_second=5, burst=10, explanations_per_second=1,
                     explanation_burst=2, connections=4, key="$binary_remote_addr")


def nginx_installed() -> bool:
    try:
        return bool(nginx_binary())
    except FileNotFoundError:
        return False


def test_split_block_sends_the_weight_to_the_canary_and_the_rest_to_stable():
    block = split_block(Routing("1", "2", 25), "$request_id")
    assert 'split_clients "$request_id" $model_version' in block
    assert '25% "2";' in block
    assert '* "1";' in block


@pytest.mark.parametrize(("routing", "only"), [(Routing("1", "2", 0), "1"), (Routing("1"), "1"), (Routing("1", "2", 100), "2")])
def test_split_block_at_the_ends_is_a_plain_map(routing, only):
    # nginx refuses "0%" in split_clients, and 100 % leaves no remainder
    block = split_block(routing, "$request_id")
    assert "split_clients" not in block
    assert f'default "{only}";' in block


def test_fractional_weight_keeps_its_decimals():
    assert '2.5% "2";' in split_block(Routing("1", "2", 2.5), "$request_id")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"stable": "1", "canary": "2", "weight": 120}, "0..100"),
        ({"stable": "1", "weight": 10}, "needs a canary"),
        ({"stable": "1;evil", "canary": "2", "weight": 5}, "may only hold"),
        ({"stable": "1", "canary": "2\r\nX-Injected: 1", "weight": 5}, "may only hold"),
        ({"stable": ".."}, "may only hold"),
    ],
)
def test_bad_routing_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Routing(**kwargs)


@pytest.mark.parametrize("name", ["intent classifier", "a/b", "x\r\ny", "..", ""])
def test_unsafe_model_name_is_refused(name, tmp_path):
    with pytest.raises(ValueError, match="model name"):
        NginxProxy(upstream_port=1, prefix=tmp_path, model_name=name, limits=LIMITS)


@pytest.mark.parametrize(
    ("bad", "message"),
    [({"burst": 0}, "whole number"), ({"connections": -1}, "whole number"), ({"requests_per_second": 2.5}, "whole number"),
     ({"key": "$binary_remote_addr zone=x; include /etc/passwd"}, "one nginx variable")],
)
def test_proxy_limits_are_checked_before_they_reach_the_config(bad, message):
    with pytest.raises(ValueError, match=message):
        ProxyLimits(**{**vars(LIMITS), **bad})


def test_render_fills_placeholders_and_leaves_nginx_variables():
    assert render("listen ${listen}; set $x $request_id;", {"listen": "127.0.0.1:1"}) == "listen 127.0.0.1:1; set $x $request_id;"
    with pytest.raises(KeyError, match="listen"):
        render("listen ${listen};", {})


@pytest.mark.skipif(not nginx_installed(), reason="nginx not installed (make system-deps)")
def test_rendered_config_passes_nginx_t_and_records_state(tmp_path):
    proxy = NginxProxy(upstream_port=18080, listen_port=18090, prefix=tmp_path / "nginx", limits=LIMITS)
    conf = proxy.write_config(Routing("1", "2", 25))
    text = conf.read_text()
    assert "split_clients" in text and "127.0.0.1:18080" in text and "listen 127.0.0.1:18090" in text
    assert "client_max_body_size 65536;" in text and "rate=5r/s" in text and "limit_conn connections 4;" in text
    assert "X-Model-Version" in text and "${" not in text
    assert proxy.generation == 1
    proxy.write_config(Routing("2"))
    assert proxy.generation == 2 and '"generation":2' in conf.read_text()
    assert (tmp_path / "nginx" / "proxy.json").is_file()


def test_access_log_reader_keeps_records_since_a_time_and_names_bad_lines(tmp_path):
    path = tmp_path / "access.jsonl"
    path.write_text(
        '{"msec": 10.0, "version": "1", "status": 200, "request_time": 0.01}\n'
        '{"msec": 20.0, "version": "2", "status": 503, "request_time": 0.02}\n'
    )
    assert [r["version"] for r in read_access_log(path, since=15.0)] == ["2"]
    path.write_text('{"msec": 10.0\n{"msec": 20.0, "version": "2", "status": 200, "request_time": 0.0}\n')
    with pytest.raises(ValueError, match="byte 0"):
        read_access_log(path)


def test_access_log_reader_starts_at_an_offset_and_survives_rotation(tmp_path):
    path = tmp_path / "access.jsonl"
    first = '{"msec": 10.0, "version": "1", "status": 200, "request_time": 0.01}\n'
    path.write_text(first + '{"msec": 11.0, "version": "2", "status": 200, "request_time": 0.01}\n')
    assert [r["version"] for r in read_access_log(path, offset=len(first))] == ["2"]
    assert access_log_size(path) == path.stat().st_size
    path.write_text(first)  # rotated: shorter than the offset, read from the start
    assert [r["version"] for r in read_access_log(path, offset=10_000)] == ["1"]


@pytest.mark.skipif(not nginx_installed(), reason="nginx not installed (make system-deps)")
def test_a_proxy_object_behind_another_command_never_reuses_a_generation(tmp_path):
    """Two commands attached to one proxy: the one that did not see the other's reload must still
    number its config past it, or waiting for "its" generation would accept the other's config."""
    prefix = tmp_path / "nginx"
    first = NginxProxy(upstream_port=18080, listen_port=18090, prefix=prefix, limits=LIMITS)
    stale = NginxProxy(upstream_port=18080, listen_port=18090, prefix=prefix, limits=LIMITS)
    first.write_config(Routing("1", "2", 25))
    first.write_config(Routing("1", "2", 50))
    stale.write_config(Routing("1"))
    assert stale.generation == 3 and '"generation":3' in stale.conf_path.read_text()
