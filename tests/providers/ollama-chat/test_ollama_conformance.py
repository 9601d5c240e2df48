"""Every ollama-chat conformance case, four ways (loopback/mock x sync/async), and chat() parity.

Notes on the cases (the oracle is the official ``ollama`` Python client 0.6.3):

* ``docs-chat-tool-call``: the wire has no tool-call id and the client has no id field, so
  ``expected.tool_calls[].id`` is ``None``. Kairos generates an id for every call (callers
  answer calls by id); the test compares names and arguments with the oracle and asserts the
  ids are non-empty and unique, then checks everything else with ``check_expected``.
* ``docs-chat-text-first-and-final``: the final line has no ``done_reason``; the raw finish
  reason stays ``None`` (as the oracle says) and the normalised one is ``stop``.
* ``docs-generate-midstream-error``: the documented lines are ``/api/generate``-shaped
  (``response`` instead of ``message.content``). Kairos reads ``response`` as content too, so
  the documented body works as is; the ``{"error": ...}`` line ends the stream with a typed
  error (``ServerError``, no status: see ``kairos.providers.ollama``) after the text.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

import kairos
from harness import WAY_IDS, WAYS, Outcome, case_names, check_expected, load_case, run
from loopback import Reply

FMT = "ollama-chat"
CASES = case_names(FMT)
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
NDJSON = {"content-type": "application/x-ndjson"}


def _reply(body: bytes, split: int = 0) -> Reply:
    return Reply.body(body, split=split, headers=dict(NDJSON))


def _with_generated_ids(out: Outcome, expected: dict[str, Any]) -> dict[str, Any]:
    """``expected`` with the oracle's ``None`` ids replaced by kairos' generated ones, after
    checking those are non-empty, unique, and belong to calls with the oracle's names/args."""
    want = copy.deepcopy(expected)
    got = out.response.tool_calls
    assert [(c.name, c.parsed_arguments()) for c in got] == [
        (t["name"], t["arguments"]) for t in want["tool_calls"]
    ]
    ids = [c.id for c in got]
    assert all(ids) and len(set(ids)) == len(ids)
    for t, call_id in zip(want["tool_calls"], ids, strict=True):
        if t["id"] is None:
            t["id"] = call_id
    return want


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize(("transport", "mode"), WAYS, ids=WAY_IDS)
def test_case_matches_official_sdk(name: str, transport: str, mode: str) -> None:
    case, body = load_case(FMT, name)
    out = run("ollama", _reply(body, split=97), REQ, transport=transport, mode=mode)
    check_expected(out, _with_generated_ids(out, case["expected"]))


def test_midstream_error_line_is_a_typed_server_error() -> None:
    _, body = load_case(FMT, "docs-generate-midstream-error")
    out = run("ollama", _reply(body), REQ, transport="mock", mode="sync")
    err = out.final.error
    assert isinstance(err, kairos.ServerError)
    assert err.status is None  # the status is not on the wire once lines were written
    assert err.message == "an error was encountered while running the model"
    assert err.partial is not None and err.partial.content == " Yes.Ican"


def test_missing_done_reason_normalises_to_stop() -> None:
    _, body = load_case(FMT, "docs-chat-text-first-and-final")
    out = run("ollama", _reply(body), REQ, transport="mock", mode="sync")
    assert out.final.finish_reason == "stop" and out.final.raw_finish_reason is None


def test_stop_after_tool_calls_normalises_to_tool_calls() -> None:
    _, body = load_case(FMT, "docs-chat-tool-call")
    out = run("ollama", _reply(body), REQ, transport="mock", mode="sync")
    assert out.final.finish_reason == "tool_calls" and out.final.raw_finish_reason == "stop"


@pytest.mark.parametrize("name", CASES)
def test_chat_equals_drained_stream(name: str) -> None:
    case, body = load_case(FMT, name)
    out = run("ollama", _reply(body), REQ, transport="mock", mode="sync")
    client = httpx.Client(
        transport=httpx.MockTransport(lambda r: httpx.Response(200, headers=NDJSON, content=body))
    )
    with kairos.provider("ollama", base_url="http://mock.test", http_client=client) as p:
        if case["expected"]["error"] is None:
            assert p.chat(REQ) == out.response
        else:
            with pytest.raises(kairos.APIStatusError) as info:
                p.chat(REQ)
            assert out.final.error is not None
            assert info.value.partial == out.final.error.partial
