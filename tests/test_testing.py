"""The scripted and function-driven doubles pass the contract tests real providers pass.

Every wire, sync and async: exactly one final chunk (the last), stats, ``chat()`` equal to the
drained stream, in-band failures typed on the final chunk and raised past it with the partial
content kept, cancellation closing the served body at once, and requests recorded.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

import kairos
from kairos.testing import (
    WIRES,
    AsyncFunctionProvider,
    AsyncScriptedProvider,
    Call,
    Fail,
    FunctionProvider,
    Pause,
    Reasoning,
    Reply,
    ScriptedProvider,
    ScriptExhausted,
    Text,
)

REQ = kairos.ChatRequest([kairos.Message.system("be brief"), kairos.Message.user("hi there")])
REPLY = Reply(
    [Reasoning("think"), Text("Hello"), Text(" world"), Call("f", {"x": 1}), Call("f", {"x": 2})],
    usage=kairos.Usage(5, 7, 12),
)
FAILING = Reply([Text("partial "), Text("text"), Fail("rate_limit", "slow down")])
SLOW = Reply([Text("first"), Pause(10.0), Text("never")])
KINDS = ["scripted", "function"]


def sync_double(kind: str, replies: list[Reply], wire: str, **kw: Any) -> kairos.HTTPProvider:
    if kind == "scripted":
        return ScriptedProvider(replies, wire=wire, **kw)
    queue = list(replies)
    return FunctionProvider(lambda req: queue.pop(0), wire=wire, **kw)


def async_double(kind: str, replies: list[Reply], wire: str, **kw: Any) -> kairos.AsyncHTTPProvider:
    if kind == "scripted":
        return AsyncScriptedProvider(replies, wire=wire, **kw)
    queue = list(replies)

    async def fn(req: kairos.ChatRequest) -> Reply:
        return queue.pop(0)

    return AsyncFunctionProvider(fn, wire=wire, **kw)


def _check_success(chunks: list[kairos.StreamChunk], resp: kairos.ChatResponse) -> None:
    assert [c.done for c in chunks].count(True) == 1 and chunks[-1].done
    final = chunks[-1]
    assert final.error is None and final.content == ""
    assert final.stats is not None and final.stats.chunks == len(chunks)
    assert final.stats.content_length == len("Hello world")
    assert "".join(c.content for c in chunks) == "Hello world" == resp.content
    assert resp.reasoning == "think"
    assert [(c.name, c.parsed_arguments()) for c in resp.tool_calls] == [
        ("f", {"x": 1}),
        ("f", {"x": 2}),
    ]
    assert resp.usage is not None
    assert (resp.usage.prompt_tokens, resp.usage.completion_tokens) == (5, 7)
    assert resp.finish_reason == "tool_calls" == final.finish_reason


def _check_failure(chunks: list[kairos.StreamChunk], raised: BaseException | None) -> None:
    final = chunks[-1]
    assert final.done and [c.done for c in chunks].count(True) == 1
    assert isinstance(final.error, kairos.APIStatusError)
    assert raised is final.error and final.finish_reason == "error"
    assert final.error.partial is not None and final.error.partial.content == "partial text"
    assert "".join(c.content for c in chunks) == "partial text"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("wire", WIRES)
def test_sync_contract(kind: str, wire: str) -> None:
    with sync_double(kind, [REPLY, REPLY, FAILING], wire) as p:
        with p.chat_stream(REQ) as stream:
            chunks = list(stream)
        _check_success(chunks, stream.response)
        assert p.chat(REQ) == stream.response
        with p.chat_stream(REQ) as stream:
            chunks, raised = [], None
            try:
                for chunk in stream:
                    chunks.append(chunk)
            except kairos.KairosError as exc:
                raised = exc
        _check_failure(chunks, raised)
        with pytest.raises(kairos.APIStatusError) as info:
            sync_double(kind, [FAILING], wire).chat(REQ)
        assert info.value.partial is not None and info.value.partial.content == "partial text"
        assert p.requests == [REQ, REQ, REQ]  # type: ignore[attr-defined]
        exchanges = p.exchanges  # type: ignore[attr-defined]
        assert len(exchanges) == 3 and all(e.request is REQ for e in exchanges)
        assert all(e.stream.closed and e.stream.completed for e in exchanges)
        assert isinstance(exchanges[0].body, dict)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("wire", WIRES)
def test_async_contract(kind: str, wire: str) -> None:
    async def main() -> None:
        async with async_double(kind, [REPLY, REPLY, FAILING], wire) as p:
            stream = await p.chat_stream(REQ)
            async with stream:
                chunks = [c async for c in stream]
            _check_success(chunks, stream.response)
            assert await p.chat(REQ) == stream.response
            stream = await p.chat_stream(REQ)
            chunks, raised = [], None
            async with stream:
                try:
                    async for chunk in stream:
                        chunks.append(chunk)
                except kairos.KairosError as exc:
                    raised = exc
            _check_failure(chunks, raised)
            assert p.requests == [REQ, REQ, REQ]  # type: ignore[attr-defined]
            assert all(e.stream.closed for e in p.exchanges)  # type: ignore[attr-defined]

    asyncio.run(main())


# -- cancellation: the served body is closed at once ---------------------------------------------
def _first_then(stream: kairos.Stream) -> kairos.StreamChunk:
    return next(iter(stream))


@pytest.mark.parametrize("wire", WIRES)
def test_close_between_chunks_closes_the_body(wire: str) -> None:
    p = ScriptedProvider([SLOW], wire=wire)
    stream = p.chat_stream(REQ)
    assert _first_then(stream).content == "first"
    started = time.monotonic()
    stream.close()
    assert time.monotonic() - started < 2.0
    body = p.exchanges[0].stream
    assert body is not None and body.closed and not body.completed
    assert list(stream) == []


@pytest.mark.parametrize("wire", WIRES)
def test_break_in_with_closes_the_body(wire: str) -> None:
    p = ScriptedProvider([SLOW], wire=wire)
    with p.chat_stream(REQ) as stream:
        for _ in stream:
            break
    body = p.exchanges[0].stream
    assert body is not None and body.closed and not body.completed


@pytest.mark.parametrize("wire", WIRES)
def test_close_from_another_thread_ends_a_paused_read(wire: str) -> None:
    p = ScriptedProvider([SLOW], wire=wire)
    stream = p.chat_stream(REQ)
    got: list[kairos.StreamChunk] = []

    def read() -> None:
        got.extend(_drain_quietly(stream))

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 5
    while not got and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    stream.close()
    reader.join(5)
    assert not reader.is_alive()
    assert time.monotonic() - started < 2.0  # the 10 s pause did not run out
    assert got[0].content == "first" and got[-1].done
    assert isinstance(got[-1].error, kairos.Cancelled)
    assert p.exchanges[0].stream is not None and p.exchanges[0].stream.closed


@pytest.mark.parametrize("wire", WIRES)
def test_task_cancel_closes_the_body(wire: str) -> None:
    async def main() -> None:
        p = AsyncScriptedProvider([SLOW], wire=wire)
        first = asyncio.Event()

        async def consume() -> None:
            stream = await p.chat_stream(REQ)
            async with stream:
                async for _ in stream:
                    first.set()

        task = asyncio.create_task(consume())
        await asyncio.wait_for(first.wait(), 5)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert time.monotonic() - started < 2.0
        body = p.exchanges[0].stream
        assert body is not None and body.closed and not body.completed

    asyncio.run(main())


@pytest.mark.parametrize("wire", WIRES)
def test_async_close_from_another_thread_ends_a_paused_read(wire: str) -> None:
    async def main() -> list[kairos.StreamChunk]:
        p = AsyncScriptedProvider([SLOW], wire=wire)
        stream = await p.chat_stream(REQ)
        got: list[kairos.StreamChunk] = []
        async with stream:
            try:
                async for chunk in stream:
                    got.append(chunk)
                    if len(got) == 1:
                        threading.Timer(0.05, stream.close).start()
            except kairos.Cancelled:
                pass
        return got

    started = time.monotonic()
    got = asyncio.run(main())
    assert time.monotonic() - started < 3.0  # the 10 s pause did not run out
    assert got[0].content == "first" and got[-1].done
    assert isinstance(got[-1].error, kairos.Cancelled)


@pytest.mark.parametrize("wire", WIRES)
def test_async_aclose_closes_the_body(wire: str) -> None:
    async def main() -> None:
        p = AsyncScriptedProvider([SLOW], wire=wire)
        stream = await p.chat_stream(REQ)
        assert (await stream.__anext__()).content == "first"
        await stream.aclose()
        body = p.exchanges[0].stream
        assert body is not None and body.closed and not body.completed

    asyncio.run(main())


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize(
    ("reply", "timeouts", "error", "partial"),
    [
        (SLOW, kairos.Timeouts(first_chunk=30, idle=0.3), kairos.IdleTimeout, "first"),
        (
            Reply([Pause(10.0), Text("x")]),
            kairos.Timeouts(first_chunk=0.3, idle=30),
            kairos.FirstChunkTimeout,
            "",
        ),
    ],
    ids=["idle", "first-chunk"],
)
def test_a_pause_runs_out_the_right_clock(
    mode: str, reply: Reply, timeouts: kairos.Timeouts, error: type, partial: str
) -> None:
    # the clocks are far shorter than the httpx read timeout (30 s): the pause ends on them
    started = time.monotonic()
    if mode == "sync":
        with ScriptedProvider([reply], timeout=timeouts).chat_stream(REQ) as stream:
            chunks = list(_drain_quietly(stream))
    else:

        async def main() -> list[kairos.StreamChunk]:
            p = AsyncScriptedProvider([reply], timeout=timeouts)
            try:
                stream = await p.chat_stream(REQ)
            except kairos.KairosError as exc:  # nothing arrived: raised by chat_stream
                return [kairos.StreamChunk(done=True, error=exc)]
            out: list[kairos.StreamChunk] = []
            async with stream:
                try:
                    async for chunk in stream:
                        out.append(chunk)
                except kairos.KairosError:
                    pass
            return out

        chunks = asyncio.run(main())
    assert time.monotonic() - started < 5.0
    assert type(chunks[-1].error) is error, chunks[-1].error
    assert chunks[-1].error.partial is None or chunks[-1].error.partial.content == partial


def _drain_quietly(stream: kairos.Stream) -> Iterator[kairos.StreamChunk]:
    try:
        yield from stream
    except kairos.KairosError:
        return


# -- requests, replies, functions -------------------------------------------------------------
def test_running_out_of_replies_is_a_clear_configuration_error() -> None:
    p = ScriptedProvider(["only one"])
    assert p.chat(REQ).content == "only one" and p.remaining == 0
    with pytest.raises(ScriptExhausted, match="request 2 but the script has 1 reply"):
        p.chat(REQ)
    assert isinstance(ScriptExhausted("x"), kairos.ConfigurationError)


def test_retries_take_the_next_reply() -> None:
    p = ScriptedProvider([Reply([Fail("overloaded")]), "recovered"], max_retries=1)
    assert p.chat(REQ).content == "recovered"
    assert len(p.exchanges) == 2 and p.requests == [REQ]


def test_function_provider_sees_the_request_and_may_yield_pieces() -> None:
    seen: list[kairos.ChatRequest] = []

    def fn(req: kairos.ChatRequest) -> Iterator[Any]:
        seen.append(req)
        yield Reasoning("hmm")
        yield "You said: "
        yield req.messages[-1].content

    tool = kairos.Tool("f", "a tool")
    req = kairos.ChatRequest([kairos.Message.user("ping")], model="m-9", tools=[tool])
    with FunctionProvider(fn, wire="anthropic") as p:
        resp = p.chat(req)
    assert seen == [req]
    assert resp.content == "You said: ping" and resp.reasoning == "hmm"
    assert resp.model == "m-9"
    body = p.exchanges[0].body
    assert body["model"] == "m-9" and body["tools"][0]["name"] == "f"


def test_async_function_provider_takes_async_generators() -> None:
    async def fn(req: kairos.ChatRequest) -> Any:
        yield "a"
        yield Pause(0.01)
        yield Call("lookup", {"q": req.messages[-1].content})

    async def main() -> kairos.ChatResponse:
        async with AsyncFunctionProvider(fn, wire="gemini") as p:
            return await p.chat(kairos.ChatRequest([kairos.Message.user("q1")]))

    resp = asyncio.run(main())
    assert resp.content == "a" and resp.tool_calls[0].parsed_arguments() == {"q": "q1"}


def test_sync_function_provider_rejects_async_functions() -> None:
    async def fn(req: kairos.ChatRequest) -> str:
        return "x"

    p = FunctionProvider(fn)
    with pytest.raises(kairos.ConfigurationError, match="AsyncFunctionProvider"):
        p.chat(REQ)


def test_function_errors_propagate_unchanged() -> None:
    def fn(req: kairos.ChatRequest) -> str:
        raise LookupError("my bug")

    with pytest.raises(LookupError, match="my bug"):
        FunctionProvider(fn).chat(REQ)


@pytest.mark.parametrize("wire", ["openai", "anthropic", "ollama"])
def test_non_stream_requests_get_a_json_answer(wire: str) -> None:
    req = kairos.ChatRequest([kairos.Message.user("hi")], extras={"stream": False})
    with ScriptedProvider([REPLY], wire=wire) as p:
        resp = p.chat(req)
    assert resp.content == "Hello world" and len(resp.tool_calls) == 2
    assert resp.usage is not None and resp.usage.completion_tokens == 7


def test_preset_names_pick_their_wire_and_model_defaults() -> None:
    p = ScriptedProvider(["ni hao"], wire="qwen", model="qwen-plus")
    assert p.name == "qwen"
    assert p.chat(REQ).model == "qwen-plus"
    assert p.exchanges[0].url == "http://kairos.testing/chat/completions"
    with pytest.raises(kairos.ConfigurationError, match="unknown wire"):
        ScriptedProvider([], wire="carrier-pigeon")


def test_usage_is_estimated_from_the_request_and_reply() -> None:
    p = ScriptedProvider([Reply.text("one two three four")])
    usage = p.chat(REQ).usage
    assert usage is not None
    assert usage.completion_tokens == 4 and usage.prompt_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + 4


def test_chunk_delay_and_pauses_do_not_change_the_answer() -> None:
    reply = Reply.text("a b c d", chunk_delay=0.01)
    reply = Reply([*reply.pieces, Pause(0.02), Text("!")], chunk_delay=0.01)
    p = ScriptedProvider([reply])
    assert p.chat(REQ).content == "a b c d!"
    assert p.exchanges[0].stream is not None and p.exchanges[0].stream.completed
