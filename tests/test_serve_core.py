"""The pure emulator core: routing, entry selection, recorded splitting and pacing, with no
server; plus the import rules (``import kairos`` stays light, a missing extra is one line)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from cases import conformance
from kairos.serve import Emulator, parse_script, script_from_dir
from kairos.serve._emulator import split_recorded
from kairos.serve._routes import route


def _post(emu: Emulator, path: str, body: Any, query: str = "") -> Any:
    return emu.handle("POST", path, query, {}, json.dumps(body).encode())


def _script(replies: list[Any], **top: Any) -> Emulator:
    return Emulator(parse_script({"replies": replies, **top}, Path("."), "<test>"))


@pytest.mark.parametrize(
    ("method", "path", "query", "wire", "kind", "stream"),
    [
        ("POST", "/v1/chat/completions", "", "openai-chat", "chat", None),
        ("POST", "/compatible-mode/v1/chat/completions", "", "openai-chat", "chat", None),
        ("POST", "/v1/messages", "", "anthropic-messages", "chat", None),
        ("POST", "/v1beta/models/g-1:streamGenerateContent", "alt=sse", "gemini", "chat", True),
        ("POST", "/v1beta/models/g-1:streamGenerateContent", "", "gemini", "chat", False),
        ("POST", "/v1beta/models/g-1:generateContent", "", "gemini", "chat", False),
        ("POST", "/api/chat", "", "ollama-chat", "chat", None),
        ("GET", "/api/tags", "", "ollama-chat", "probe", None),
        ("GET", "/api/version", "", "ollama-chat", "probe", None),
        ("GET", "/v1/chat/completions", "", "openai-chat", "unknown", None),
        ("POST", "/x/v1/messages", "", "anthropic-messages", "unknown", None),
        ("POST", "/v1beta/models/g:countTokens", "", "gemini", "unknown", None),
        ("POST", "/api/generate", "", "ollama-chat", "unknown", None),
    ],
)
def test_routes(
    method: str, path: str, query: str, wire: str, kind: str, stream: bool | None
) -> None:
    r = route(method, path, query)
    assert (r.wire, r.kind) == (wire, kind)
    if kind == "chat":
        assert r.stream == stream
    if kind == "probe":
        assert r.probe is not None and r.probe.path == path


def test_ordered_replies_repeat_the_last_and_matches_are_not_consumed() -> None:
    emu = _script([{"text": "one"}, {"match": "SPECIAL", "text": "matched"}, {"text": "two"}])
    said = []
    for prompt in ["a", "a special b", "c", "d"]:
        body = {"messages": [{"role": "user", "content": prompt}]}
        said.append(json.loads(_post(emu, "/v1/chat/completions", body).body))
    texts = [b["choices"][0]["message"]["content"] for b in said]
    assert texts == ["one", "matched", "two", "two"]


def test_cycle_restarts_the_script() -> None:
    emu = _script([{"text": "one"}, {"text": "two"}], cycle=True)
    body = {"messages": [{"role": "user", "content": "x"}], "stream": False}
    texts = [json.loads(_post(emu, "/api/chat", body).body)["message"]["content"] for _ in "abc"]
    assert texts == ["one", "two", "one"]


def test_only_matched_entries_and_no_match_is_a_500() -> None:
    emu = _script([{"match": "x", "text": "y"}])
    a = _post(emu, "/v1/messages", {"messages": [{"role": "user", "content": "nothing"}]})
    assert a.status == 500 and json.loads(a.body)["type"] == "error"


def test_gemini_last_user_text_and_model_from_the_path() -> None:
    emu = _script([{"match": "ping", "text": "pong"}])
    body = {"contents": [{"role": "user", "parts": [{"text": "pi"}, {"text": "ng"}]}]}
    a = _post(emu, "/v1beta/models/gm:generateContent", body)
    assert a.status == 200 and emu.requests[0].model == "gm"
    assert json.loads(a.body)["candidates"][0]["content"]["parts"][0]["text"] == "pong"


def test_stream_without_alt_sse_is_a_json_array() -> None:
    emu = _script([{"text": "hi"}])
    a = _post(emu, "/v1beta/models/g:streamGenerateContent", {"contents": []})
    assert isinstance(json.loads(a.body), list) and not a.stream


@pytest.mark.parametrize("fmt", ["openai-chat", "ollama-chat", "anthropic-messages", "gemini"])
def test_recorded_bodies_split_per_event_and_rejoin_exactly(fmt: str) -> None:
    for body_file in sorted(conformance(fmt).glob("*/response.*")):
        body = body_file.read_bytes()
        pieces = split_recorded(body)
        assert b"".join(pieces) == body and all(pieces)
        ends = (b"\n",) if fmt == "ollama-chat" else (b"\n\n", b"\r\n\r\n")
        assert all(p.endswith(ends) for p in pieces[:-1])  # one event / line per piece
        assert len(pieces) > 1 or not any(e in body.rstrip() for e in ends)
        assert b"".join(split_recorded(body, 7)) == body


def test_faults_pace_and_truncate_pieces() -> None:
    emu = _script(
        [{"text": "a b c d", "delay_first": 0.5, "chunk_delay": 0.1, "truncate_after": 2}]
    )
    a = _post(emu, "/api/chat", {"messages": [{"role": "user", "content": "x"}]})
    assert a.stream and a.headers["content-type"] == "application/x-ndjson"
    assert a.pieces[0] == 0.5
    data = [p for p in a.pieces if isinstance(p, bytes)]
    assert len(data) == 2 and b'"done":true' not in b"".join(data)
    assert a.pieces.count(0.1) == 1  # one gap between the two pieces


def test_http_error_entry_has_retry_after_and_the_provider_shape() -> None:
    emu = _script([{"status": 429, "retry_after": 2, "error": "wait"}])
    a = _post(emu, "/v1beta/models/g:generateContent", {"contents": []})
    assert a.status == 429 and a.headers["retry-after"] == "2"
    err = json.loads(a.body)["error"]
    assert err["status"] == "RESOURCE_EXHAUSTED" and err["message"] == "wait"


def test_script_from_dir_serves_recorded_bodies_in_path_order() -> None:
    script = script_from_dir(conformance("ollama-chat"))
    names = sorted(p.parent.name for p in (conformance("ollama-chat")).glob("*/response.*"))
    assert len(script.entries) == len(names)
    first = (conformance("ollama-chat") / names[0]).glob("response.*")
    assert script.entries[0].recorded == next(first).read_bytes()


def test_import_kairos_does_not_import_serve_and_missing_extra_is_one_line() -> None:
    code = (
        "import sys, kairos, kairos.cli\n"
        "assert not [m for m in sys.modules if m.startswith(('kairos.serve', 'starlette'))]\n"
        "sys.modules['uvicorn'] = None\n"
        "import kairos.serve\n"
        "try:\n"
        "    kairos.serve.EmulatorServer\n"
        "except kairos.ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "kairos serve needs uvicorn: pip install 'kairos-llm[serve]'"
