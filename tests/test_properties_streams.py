"""Property tests for every codec and the stream machine: hostile JSON never escapes as a crash.

For each wire format (Chat Completions, Anthropic Messages, Gemini, Ollama) hypothesis feeds
arbitrary JSON values and *near-valid* events (recorded conformance events with a few leaves
replaced by the wrong type, a null, a negative or huge number, a list, or deleted) through

* the codec's event parser alone,
* the pure stream machine (decoder -> codec -> ``StreamMachine``/accumulator) with arbitrary
  splits of the body, which must not change the outcome,
* the public path (``kairos.provider(..., http_client=httpx.Client(transport=MockTransport))``
  and the async twin),

and checks that nothing but a :class:`kairos.KairosError` ever escapes, and that a failed stream
never looks successful: the last chunk is the only ``done`` one; without an error its
``finish_reason`` is set and the response content equals the concatenated deltas; with one,
iterating past it raises that same error, which carries the partial answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import kairos
from cases import conformance
from kairos._machine import StreamMachine
from kairos._options import Timeouts
from kairos._sse import SSEDecoder
from kairos.providers import make_codec

URL = "http://mock.test"
KEY_ = "sk-test-0123456789"  # long enough that redacting it never touches other text
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
# wire format -> (preset, fixture folders, framing)
WIRES = {
    "openai-chat": ("openai", ("openai-chat", "dashscope"), "sse"),
    "anthropic-messages": ("anthropic", ("anthropic-messages",), "sse"),
    "gemini": ("gemini", ("gemini",), "sse"),
    "ollama-chat": ("ollama", ("ollama-chat",), "ndjson"),
    "openai-responses": ("openai-responses", ("openai-responses",), "sse"),
}
FINISH = {"stop", "length", "tool_calls", "content_filter", "error"}
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# -- seeds: every event of every recorded body ---------------------------------------------------
def _seeds(folders: tuple[str, ...]) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for folder in folders:
        for path in sorted(conformance(folder).glob("*/response.*")):
            body = path.read_bytes()
            if path.suffix == ".sse":
                dec = SSEDecoder()
                pairs = [(e.event, e.data) for e in dec.feed(body) + dec.flush()]
            else:
                pairs = [("", line) for line in body.decode().splitlines() if line.strip()]
            for event, data in pairs:
                with contextlib.suppress(ValueError):  # "[DONE]"
                    out.append((event, json.loads(data)))
    return out


# documented error shapes, so mutations reach every field the error mappers read
_RETRY = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "7s"}
_REASON = {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}
ERROR_SEEDS: dict[str, list[tuple[str, Any]]] = {
    "openai-chat": [
        ("error", {"error": {"message": "m", "type": "t", "code": "c", "param": "p"}}),
        ("message", {"error": {"message": "m", "code": 429, "metadata": {"raw": "r"}}}),
    ],
    "anthropic-messages": [
        ("error", {"type": "error", "error": {"type": "overloaded_error", "message": "m"}}),
    ],
    "gemini": [
        ("message", {"error": {"code": 429, "message": "m", "status": "RESOURCE_EXHAUSTED",
                               "details": [_RETRY, _REASON]}}),
    ],
    "ollama-chat": [("", {"error": "m"}), ("", {"error": {"message": "m", "status_code": 503}})],
    "openai-responses": [
        ("error", {"type": "error", "code": "c", "message": "m", "param": "p"}),
        ("response.failed", {"type": "response.failed", "response": {"status": "failed",
                             "error": {"code": "server_error", "message": "m"}}}),
    ],
}  # fmt: skip
SEEDS = {wire: _seeds(folders) + ERROR_SEEDS[wire] for wire, (_, folders, _) in WIRES.items()}


def _keys(value: Any, into: set[str]) -> set[str]:
    if isinstance(value, dict):
        into.update(value)
        for v in value.values():
            _keys(v, into)
    elif isinstance(value, list):
        for v in value:
            _keys(v, into)
    return into


KEYS = sorted(_keys([obj for seeds in SEEDS.values() for _, obj in seeds], set()))
EVENTS = sorted({e for seeds in SEEDS.values() for e, _ in seeds} | {"error", "message", ""})

# -- strategies ----------------------------------------------------------------------------------
DEEP_ERRORS = [
    '{"error":' + "[" * 450 + "1" + "]" * 450 + "}",
    '{"error":' + "[" * 990 + "1" + "]" * 990 + "}",
    '{"error":' + '{"message":' * 990 + "1" + "}" * 990 + "}",
]
KEY = st.one_of(st.sampled_from(KEYS), st.text(max_size=6))
SCALAR = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([-1, 0, 1, -(2**63), 2**64, 10**30, -(10**30)]),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=8),
    st.sampled_from(KEYS),
)
JSON = st.recursive(
    SCALAR,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEY, inner, max_size=4),
    max_leaves=10,
)


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    items = (
        obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else ()
    )
    for k, v in items:
        out += _paths(v, (*prefix, k))
    return out


def _apply(obj: Any, path: tuple[Any, ...], op: str, value: Any) -> Any:
    if not path:
        return {"replace": value, "delete": {}, "listify": [obj]}[op]
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if op == "replace":
        parent[key] = value
    elif op == "delete":
        del parent[key]
    else:
        parent[key] = [parent[key]]
    return obj


@st.composite
def near_valid(draw: st.DrawFn, wire: str) -> tuple[str, Any]:
    """A recorded event with one to three leaves or subtrees broken."""
    event, obj = draw(st.sampled_from(SEEDS[wire]))
    obj = copy.deepcopy(obj)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(obj)))
        op = draw(st.sampled_from(["replace", "replace", "delete", "listify"]))
        obj = _apply(obj, path, op, draw(JSON))
    return event, obj


def payloads(wire: str) -> st.SearchStrategy[tuple[str, str]]:
    """(SSE event name, data text): recorded, near-valid, arbitrary JSON or garbage."""
    name = st.sampled_from(EVENTS)
    dumped = st.one_of(
        st.sampled_from(SEEDS[wire]),
        near_valid(wire),
        near_valid(wire),
        st.tuples(name, JSON),
    ).map(lambda p: (p[0], json.dumps(p[1], ensure_ascii=False)))
    raw = st.tuples(
        name,
        st.one_of(
            st.just("[DONE]"),
            st.just("1" * 5000),  # an integer beyond Python's int-from-text limit
            st.just("[" * 5000),  # nesting beyond the recursion limit
            st.sampled_from(DEEP_ERRORS),  # nesting just below it
            st.text(max_size=20).filter(lambda s: "\n" not in s and "\r" not in s),
        ),
    )
    return st.one_of(dumped, dumped, dumped, raw)


def frame(framing: str, events: list[tuple[str, str]]) -> bytes:
    if framing == "ndjson":
        return "".join(data + "\n" for _, data in events).encode()
    parts = []
    for event, data in events:
        head = f"event: {event}\n" if event and event != "message" else ""
        parts.append(f"{head}data: {data}\n\n")
    return "".join(parts).encode()


@st.composite
def bodies(draw: st.DrawFn, wire: str) -> tuple[str, bytes]:
    """(content type, body): a framed stream, maybe cut short, or one complete JSON answer."""
    framing = WIRES[wire][2]
    if draw(st.integers(0, 9)) == 0:
        _, value = draw(st.one_of(st.sampled_from(SEEDS[wire]), near_valid(wire)))
        return "application/json", json.dumps(value).encode()
    body = frame(framing, draw(st.lists(payloads(wire), max_size=8)))
    if draw(st.booleans()):
        body = body[: draw(st.integers(0, len(body)))]
    ctype = "text/event-stream" if framing == "sse" else "application/x-ndjson"
    return ctype, body


# -- checks --------------------------------------------------------------------------------------
def _check_types(resp: kairos.ChatResponse) -> None:
    assert isinstance(resp.content, str)
    assert resp.reasoning is None or isinstance(resp.reasoning, str)
    assert resp.model is None or isinstance(resp.model, str)
    assert resp.raw_finish_reason is None or isinstance(resp.raw_finish_reason, str)
    for call in resp.tool_calls:
        assert all(isinstance(x, str) for x in (call.id, call.name, call.arguments)), call
    if resp.usage is not None:
        u = resp.usage
        assert all(type(n) is int for n in (u.prompt_tokens, u.completion_tokens, u.total_tokens))
        assert all(n is None or type(n) is int for n in (u.cached_tokens, u.reasoning_tokens))


def check_outcome(
    chunks: list[kairos.StreamChunk], raised: BaseException | None, resp: kairos.ChatResponse
) -> None:
    assert chunks, "every stream ends with a final chunk"
    assert [c.done for c in chunks] == [False] * (len(chunks) - 1) + [True]
    final = chunks[-1]
    text = "".join(c.content for c in chunks)
    assert all(isinstance(c.content, str) and isinstance(c.reasoning, str) for c in chunks)
    assert final.content == ""
    if final.error is None:
        assert raised is None
        assert final.finish_reason in FINISH, final.finish_reason
        assert resp.content == text
        assert resp.finish_reason == final.finish_reason
        _check_types(resp)
        return
    err = final.error
    assert isinstance(err, kairos.KairosError)
    assert raised is err, "iterating past a failed final chunk raises its error"
    assert final.finish_reason in ("error", "cancelled")
    assert err.partial is not None and err.partial.content == text
    _check_types(err.partial)
    assert len(str(err).splitlines()) == 1 and str(err) == str(err).strip()


# -- crashes these tests found (fixed in src/), kept as explicit examples -----------------------
_OAI = '{"object":"chat.completion.chunk","model":"m","choices":%s}'
_ANT = '{"type":"%s","index":%s,"delta":{"type":"input_json_delta","partial_json":"{}"}}'
_OLL = '{"model":"m","created_at":"t","message":%s,"done_reason":%s,"done":true,"eval_count":1}'
PARSER_EXAMPLES: dict[str, list[list[tuple[str, str]]]] = {
    "openai-chat": [  # KeyError / AttributeError on a non-list choices, a null choice, delta -1
        [("message", _OAI % '{"a":null}')],
        [("message", _OAI % "[null]")],
        [("message", _OAI % '[{"index":0,"delta":-1,"finish_reason":null}]')],
        [("message", _OAI % '[{"delta":{"content":5,"tool_calls":[7,{"function":"f"}]}}]')],
    ],
    "anthropic-messages": [  # TypeError: unhashable list as a content-block index
        [("content_block_delta", _ANT % ("content_block_delta", "[]"))],
        [("content_block_stop", _ANT % ("content_block_stop", "[14]"))],
    ],
    "ollama-chat": [[("", _OLL % ("[null]", "[1]"))]],
}
BODY_EXAMPLES: dict[str, list[tuple[str, bytes]]] = {
    "openai-chat": [  # a last event without its blank line: its content was not yielded
        (
            "text/event-stream",
            b'data: {"choices":[{"delta":{"content":"hi"},"finish_reason":"stop"}]}\n',
        )
    ],
    # TypeError: a list done_reason reached normalise_finish; false leaked as raw_finish_reason
    "ollama-chat": [
        ("application/json", (_OLL % ("[null]", "false")).encode()),
        ("application/x-ndjson", (_OLL % ('{"content":"a"}', '["stop"]') + "\n").encode()),
    ],
    "anthropic-messages": [
        (  # the same on a failed stream (no message_stop): error.partial had more text
            "text/event-stream",
            b'event: content_block_delta\ndata: {"type": "content_block_delta", "index": 1, '
            b'"delta": {"type": "text_delta", "text": "- Be"}}\n',
        ),
        (
            "text/event-stream",
            b"event: content_block_delta\ndata: "
            + (_ANT % ("content_block_delta", "[14]")).encode()
            + b"\n\n",
        ),
    ],
}


for _wire, (_, _, _framing) in WIRES.items():  # RecursionError from error_text() and scrub()
    _ctype = "text/event-stream" if _framing == "sse" else "application/x-ndjson"
    BODY_EXAMPLES.setdefault(_wire, []).extend(
        (_ctype, frame(_framing, [("error", deep)])) for deep in DEEP_ERRORS
    )


def _codec(wire: str) -> Any:
    return make_codec(WIRES[wire][0], api_key=KEY_, base_url=URL)


# -- the codec's event parser alone --------------------------------------------------------------


@pytest.mark.parametrize("wire", list(WIRES))
def test_event_parser_raises_only_kairos_errors(wire: str) -> None:
    @SETTINGS
    @given(events=st.lists(payloads(wire), min_size=1, max_size=6))
    def prop(events: list[tuple[str, str]]) -> None:
        parser = _codec(wire).new_parser()
        for event, data in events:
            try:
                delta = parser.parse(event, data if WIRES[wire][2] == "sse" else data.encode())
            except kairos.KairosError as err:
                assert len(str(err).splitlines()) == 1
                return
            if delta is not None and delta.error is not None:
                assert isinstance(delta.error, kairos.APIStatusError)
                assert len(str(delta.error).splitlines()) == 1

    for events in PARSER_EXAMPLES.get(wire, []):
        prop = example(events=events)(prop)
    prop()


# -- the pure stream machine, whole and split ----------------------------------------------------
@dataclass
class Run:
    chunks: list[kairos.StreamChunk]
    response: kairos.ChatResponse

    def summary(self) -> tuple[Any, ...]:
        final = self.chunks[-1]
        return (
            [(c.content, c.reasoning, c.tool_calls) for c in self.chunks[:-1]],
            final.tool_calls,
            final.finish_reason,
            final.raw_finish_reason,
            final.usage,
            type(final.error),
            self.response,
        )


def run_core(wire: str, ctype: str, pieces: list[bytes]) -> Run:
    core = StreamMachine(_codec(wire), Timeouts(), time.monotonic(), 1 << 20)
    chunks: list[kairos.StreamChunk] = []
    if ctype == "application/json":
        chunks = core.feed_body(b"".join(pieces))
    else:
        for piece in pieces:
            chunks += core.feed(piece)
            if core.done:
                break
        chunks += core.eof()
    return Run(chunks, core.response())


@pytest.mark.parametrize("wire", list(WIRES))
def test_stream_machine_any_split_same_outcome(wire: str) -> None:
    @SETTINGS
    @given(body=bodies(wire), cuts=st.lists(st.integers(0, 4000), max_size=5))
    def prop(body: tuple[str, bytes], cuts: list[int]) -> None:
        ctype, data = body
        whole = run_core(wire, ctype, [data])
        final = whole.chunks[-1]
        raised = final.error
        check_outcome(whole.chunks, raised, whole.response)
        points = sorted({min(c, len(data)) for c in cuts})
        pieces = [data[a:b] for a, b in zip([0, *points], [*points, len(data)], strict=True)]
        assert run_core(wire, ctype, pieces).summary() == whole.summary()

    for body in BODY_EXAMPLES.get(wire, []):
        prop = example(body=body, cuts=[5])(prop)
    prop()


# -- the public path: provider -> httpx (MockTransport) -> stream, sync and async -----------------
def _transport(ctype: str, data: bytes) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": ctype}, content=data)

    return httpx.MockTransport(handler)


def drain_sync(wire: str, ctype: str, data: bytes) -> None:
    with httpx.Client(transport=_transport(ctype, data)) as client:
        p = kairos.provider(
            WIRES[wire][0], api_key=KEY_, base_url=URL, http_client=client, max_retries=0
        )
        chunks: list[kairos.StreamChunk] = []
        raised = None
        with p.chat_stream(REQ) as stream:
            try:
                for chunk in stream:
                    chunks.append(chunk)
            except kairos.KairosError as err:
                raised = err
        check_outcome(chunks, raised, stream.response)


async def drain_async(wire: str, ctype: str, data: bytes) -> None:
    async with httpx.AsyncClient(transport=_transport(ctype, data)) as client:
        p = kairos.async_provider(
            WIRES[wire][0], api_key=KEY_, base_url=URL, http_client=client, max_retries=0
        )
        chunks: list[kairos.StreamChunk] = []
        raised = None
        stream = await p.chat_stream(REQ)
        async with stream:
            try:
                async for chunk in stream:
                    chunks.append(chunk)
            except kairos.KairosError as err:
                raised = err
        check_outcome(chunks, raised, stream.response)


@pytest.mark.parametrize("wire", list(WIRES))
def test_public_stream_sync_and_async(wire: str) -> None:
    @settings(SETTINGS, max_examples=60)
    @given(body=bodies(wire))
    def prop(body: tuple[str, bytes]) -> None:
        drain_sync(wire, *body)
        asyncio.run(drain_async(wire, *body))

    for body in BODY_EXAMPLES.get(wire, []):
        prop = example(body=body)(prop)
    prop()
