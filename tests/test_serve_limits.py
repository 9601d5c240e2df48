"""``kairos serve`` is reachable by every process on the host: its limits (``serve._limits``),
its recorded-path rule, its host rule and wire-independent matching in tool loops.

Servers are the real emulator hosts on loopback (Uvicorn and the stdlib offline host); the CLI
runs as a subprocess.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import kairos
from kairos.providers import PRESETS, WIRES, wire_spec
from kairos.serve import EmulatorServer, load_script, script_from_dir
from kairos.serve._limits import MAX_REQUEST_BYTES, MAX_SCRIPT_BYTES
from kairos.serve._offline import OfflineServer

PRESET_NAMES = [wire_spec(w).preset for w in WIRES]
WEATHER = kairos.Tool("get_weather", "Weather for a city")


def _url(srv: EmulatorServer, preset: str) -> str:
    env = PRESETS[preset].base_url_env or ""
    return srv.base_urls.get(env, srv.url)


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kairos", *args],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
    )


def _one_line(r: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1, r.stderr
    return r.stderr.strip()


# -- request bodies -------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_a_body_past_the_limit_is_a_413_in_the_provider_s_shape(preset: str) -> None:
    big = "x" * 3000
    with EmulatorServer({"replies": ["ok"]}, max_body=2048) as srv:
        with kairos.provider(preset, base_url=_url(srv, preset), api_key="k", max_retries=0) as p:
            req = kairos.ChatRequest([kairos.Message.user(big)], model="m")
            with pytest.raises(kairos.BadRequestError) as info:
                p.chat(req)
            assert p.chat(kairos.ChatRequest([kairos.Message.user("hi")], model="m")).content
        assert len(srv.requests) == 1  # the big one never reached the script
    assert info.value.status == 413 and "larger than 2048 bytes" in str(info.value)


def test_the_default_limit_on_both_hosts_without_a_content_length() -> None:
    """16 MiB (the documented limit), also for a chunked upload that declares no length."""
    assert MAX_REQUEST_BYTES == 16 * 2**20

    def chunks() -> Any:
        piece = b"x" * 2**20
        for _ in range(17):
            yield piece

    with EmulatorServer({"replies": ["ok"]}) as srv, OfflineServer() as demo:
        for url in (srv.base_urls["OPENAI_BASE_URL"], demo.base_url):
            r = httpx.post(url + "/chat/completions", content=chunks(), timeout=30)
            assert r.status_code == 413, url
            assert "larger than" in r.json()["error"]["message"]
            ok = httpx.post(url + "/chat/completions", json={"messages": []}, timeout=30)
            assert ok.status_code == 200


# -- script files ---------------------------------------------------------------------------------
def test_a_script_past_the_limit_is_refused(tmp_path: Path) -> None:
    r = _cli("serve", "/dev/zero")
    assert r.returncode == 2
    assert "larger than 4 MiB" in _one_line(r)
    big = tmp_path / "big.json"
    big.write_text(json.dumps({"replies": ["x" * MAX_SCRIPT_BYTES]}))
    with pytest.raises(kairos.ConfigurationError, match="larger than 4 MiB"):
        load_script(big)


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    levels = ["          a0: &a0 [" + ", ".join(['"lol"'] * 9) + "]"]
    for i in range(1, 10):
        levels.append(f"          a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]")
    head = "replies:\n  - text: hi\n    tool_calls:\n      - name: f\n        arguments:\n"
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(head + "\n".join(levels) + "\n")  # 9**10 values once expanded
    started = time.process_time()
    with pytest.raises(kairos.ConfigurationError, match="expands to more than"):
        load_script(bomb)
    assert time.process_time() - started < 5  # bounded work, not billions of values
    r = _cli("serve", str(bomb))
    assert r.returncode == 2 and "expands to more than" in _one_line(r)
    loop = tmp_path / "loop.yaml"
    loop.write_text(head + "          self: &s [*s]\n")
    with pytest.raises(kairos.ConfigurationError, match="refers to itself"):
        load_script(loop)


# -- connections that never finish their headers --------------------------------------------------
def _closed_within(port: int, send: bytes, seconds: float) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as sock:
        if send:
            sock.sendall(send)
        sock.settimeout(seconds)
        try:
            while True:
                data = sock.recv(4096)
                if not data:
                    return True
        except TimeoutError:
            return False
        except ConnectionResetError:
            return True


@pytest.mark.parametrize("host", ["uvicorn", "stdlib"])
def test_connections_that_never_finish_their_headers_are_closed(host: str) -> None:
    partial = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: applic"
    if host == "uvicorn":
        server: Any = EmulatorServer({"replies": ["ok"]}, header_timeout=0.5)
    else:
        server = OfflineServer(header_timeout=0.5)
    with server as srv:
        port = int(srv.url.rsplit(":", 1)[1])
        t0 = time.monotonic()
        assert _closed_within(port, partial, 5.0)
        assert time.monotonic() - t0 < 4.0
        assert _closed_within(port, b"", 5.0)  # a connection that sends nothing at all
        # a kept-alive connection: a full request first, then headers that never end
        request = (
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 16\r\n\r\n" + b'{"messages": []}'
        )
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(request)
            got = b""
            while b'"choices"' not in got:
                piece = sock.recv(65536)
                assert piece, got
                got += piece
            time.sleep(0.2)  # the whole answer is in
            sock.sendall(partial)
            t0 = time.monotonic()
            while sock.recv(65536):  # until the server closes (a timeout would raise)
                pass
            assert time.monotonic() - t0 < 4.0
        assert got.startswith(b"HTTP/1.1 200")


# -- recorded paths -------------------------------------------------------------------------------
def test_recorded_paths_stay_inside_the_script_s_folder(tmp_path: Path) -> None:
    secret = tmp_path / "secret.sse"
    secret.write_bytes(b"data: private\n\n")
    folder = tmp_path / "scripts"
    (folder / "bodies").mkdir(parents=True)
    (folder / "bodies" / "ok.sse").write_bytes(b"data: [DONE]\n\n")
    os.symlink(secret, folder / "bodies" / "link.sse")
    cases = {
        "../secret.sse": "leads outside",
        str(secret): "absolute",
        "bodies/link.sse": "leads outside",
        "bodies/../../secret.sse": "leads outside",
    }
    for name, why in cases.items():
        script = folder / "s.yaml"
        script.write_text(f"replies:\n  - recorded: {json.dumps(name)}\n")
        with pytest.raises(kairos.ConfigurationError, match=why):
            load_script(script)
        r = _cli("serve", str(script))
        assert r.returncode == 2 and why in _one_line(r)
    script.write_text("replies:\n  - recorded: bodies/ok.sse\n")
    assert load_script(script).entries[0].recorded == b"data: [DONE]\n\n"
    with pytest.raises(kairos.ConfigurationError, match="leads outside"):
        script_from_dir(folder)  # bodies/link.sse points out of the folder
    (folder / "bodies" / "link.sse").unlink()
    assert len(script_from_dir(folder).entries) == 1


# -- hosts ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("command", ["serve", "web"])
def test_an_empty_host_is_refused(command: str) -> None:
    r = _cli(command, "--host", "")
    assert r.returncode == 2
    assert "every interface" in _one_line(r)
    with pytest.raises(kairos.ConfigurationError, match="every interface"):
        EmulatorServer(host="")


# -- matching in tool loops -----------------------------------------------------------------------
SCRIPT = {
    "replies": [
        {"match": "weather", "text": "Checking.", "tool_calls": [{"name": "get_weather"}]},
        {"text": "Nothing matched."},
    ]
}


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_a_tool_loop_matches_the_same_way_on_every_wire(preset: str) -> None:
    """The tool results of a loop arrive as a user turn on some wires and a ``tool`` turn on
    others; the match is on the last user *text* either way."""
    question = kairos.Message.user("What is the weather in Paris?")
    with EmulatorServer(SCRIPT) as srv:
        with kairos.provider(preset, base_url=_url(srv, preset), api_key="k") as p:
            first = p.chat(kairos.ChatRequest([question], model="m", tools=[WEATHER]))
            (call,) = first.tool_calls
            history = [
                question,
                kairos.Message.assistant(first.content, first.tool_calls),
                kairos.Message.tool('{"celsius": 18}', call.id, name=call.name),
            ]
            second = p.chat(kairos.ChatRequest(history, model="m", tools=[WEATHER]))
            third = p.chat(kairos.ChatRequest(history, model="m"))  # no tools offered
        prompts = [seen.prompt for seen in srv.requests]
    assert prompts == [question.content] * 3
    assert [c.name for c in second.tool_calls] == ["get_weather"]  # the same entry, again
    assert third.tool_calls == () and third.content == "Checking."
    assert third.finish_reason == "stop"


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_strict_answers_400_to_tool_calls_without_tools(preset: str) -> None:
    req = kairos.ChatRequest([kairos.Message.user("weather?")], model="m")
    with (
        EmulatorServer(SCRIPT, strict=True) as srv,
        kairos.provider(preset, base_url=_url(srv, preset), api_key="k") as p,
    ):
        with pytest.raises(kairos.BadRequestError, match="offers no tools") as info:
            p.chat(req)
        assert p.chat(kairos.ChatRequest(req.messages, model="m", tools=[WEATHER])).tool_calls
    assert info.value.status == 400


def test_strict_flag_on_the_command_line(tmp_path: Path) -> None:
    r = _cli("serve", "--help")
    assert r.returncode == 0 and "--strict" in r.stdout
