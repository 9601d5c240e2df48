"""Bad input is a typed ConfigurationError naming what was wrong, raised before any request.

Every check runs against a real loopback server that records requests: a bad request must
reach no server at all, and the error must be :class:`kairos.ConfigurationError` (never a raw
``TypeError``, ``ValueError``, ``UnicodeEncodeError``, ``OverflowError``, ``ImportError`` or
``httpx.InvalidURL``) with a one-line message naming the field.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import kairos
from kairos.providers import WIRES, wire_spec
from kairos.serve import EmulatorServer
from loopback import LoopbackServer, Reply

PRESETS = [wire_spec(w).preset for w in WIRES]  # one preset per wire, from the registry
USER = kairos.Message.user("hi")
KEY = "sk-bad-input-test-key"


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(lambda seen: Reply.json(500, {"error": "must not be reached"})) as srv:
        yield srv


def _req(**kw: Any) -> kairos.ChatRequest:
    kw.setdefault("messages", [USER])
    kw.setdefault("model", "m")
    return kairos.ChatRequest(**kw)


def _refused(preset: str, url: str, req: kairos.ChatRequest, *names: str) -> str:
    """``req`` is refused by chat_stream and chat, sync and async; returns the message."""
    messages = []
    with kairos.provider(preset, base_url=url, api_key=KEY, max_retries=0) as p:
        for call in (p.chat_stream, p.chat):
            with pytest.raises(kairos.ConfigurationError) as info:
                call(req)
            messages.append(str(info.value))

    async def main() -> None:
        async with kairos.async_provider(preset, base_url=url, api_key=KEY) as p:
            for call in (p.chat_stream, p.chat):
                with pytest.raises(kairos.ConfigurationError) as info:
                    await call(req)
                messages.append(str(info.value))

    asyncio.run(main())
    for message in messages:
        assert "\n" not in message
        for name in names:
            assert name in message, message
    return messages[0]


# -- requests ---------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", PRESETS)
def test_lone_surrogate_in_message_text(preset: str, server: LoopbackServer) -> None:
    req = _req(messages=[kairos.Message.system("ok"), kairos.Message.user("caf\udce9")])
    message = _refused(preset, server.url, req, "messages[1].content", "surrogate")
    assert "position 3" in message
    assert server.requests == []


@pytest.mark.parametrize("preset", PRESETS)
def test_lone_surrogate_in_tool_arguments_and_model(preset: str, server: LoopbackServer) -> None:
    call = kairos.ToolCall("c1", "f", '{"a": "\ud800"}')
    req = _req(messages=[USER, kairos.Message.assistant("", [call])])
    _refused(preset, server.url, req, "messages[1].tool_calls[0].arguments")
    _refused(preset, server.url, _req(model="m\udcff"), "model")
    assert server.requests == []


@pytest.mark.parametrize("preset", PRESETS)
def test_values_json_cannot_encode(preset: str, server: LoopbackServer) -> None:
    tool = kairos.Tool("lookup", parameters={"type": "object", "properties": {"x": {1, 2}}})
    _refused(preset, server.url, _req(tools=[tool]), "tools[0] ('lookup').parameters", "set")
    _refused(preset, server.url, _req(extras={"opt": object()}), "extras['opt']", "object")
    _refused(preset, server.url, _req(extras={"n": [1, math.inf]}), "extras['n'][1]", "inf")
    loop: dict[str, Any] = {}
    loop["self"] = loop
    _refused(preset, server.url, _req(extras=loop), "circular")
    assert server.requests == []


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("field", ["temperature", "top_p"])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_sampling_numbers(
    preset: str, field: str, value: float, server: LoopbackServer
) -> None:
    _refused(preset, server.url, _req(**{field: value}), field, "finite")
    assert server.requests == []


def test_other_request_fields_are_checked(server: LoopbackServer) -> None:
    url = server.url
    _refused("openai", url, _req(messages="hi"), "messages", "list")
    _refused("openai", url, _req(messages=[{"role": "user", "content": "hi"}]), "messages[0]")
    _refused("openai", url, _req(max_tokens=0), "max_tokens")
    _refused("openai", url, _req(max_tokens=True), "max_tokens")
    _refused("openai", url, _req(stop="END"), "stop", "list")
    _refused("openai", url, _req(temperature="hot"), "temperature", "number")
    _refused("openai", url, _req(tool_choice=3), "tool_choice")
    assert server.requests == []


def _strict(body: bytes) -> Any:
    def refuse(constant: str) -> Any:
        raise ValueError(f"not strict JSON: {constant}")

    return json.loads(body, parse_constant=refuse)


@pytest.mark.parametrize("preset", PRESETS)
def test_every_body_sent_is_strict_json(preset: str) -> None:
    """Floats, nested extras and schemas go out as strict JSON (the emulator records bodies)."""
    schema = {"type": "object", "properties": {"x": {"type": "number", "maximum": 1e308}}}
    req = _req(
        messages=[kairos.Message.system("s"), USER],
        tools=[kairos.Tool("f", "d", schema)],
        temperature=0.25,
        top_p=1e-9,
        extras={"metadata": {"weights": [0.5, -0.0, 1e300]}},
    )
    with EmulatorServer({"replies": ["ok"]}) as srv:
        url = srv.base_urls[f"{kairos.providers.PRESETS[preset].base_url_env}"]
        with kairos.provider(preset, base_url=url, api_key=KEY) as p:
            assert p.chat(req).content == "ok"
        assert len(srv.requests) == 1
        _strict(srv.requests[0].body)


# -- provider options -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:99999", "port"),
        ("http://127.0.0.1:abc", "port"),
        ("http://[::1", "IPv6"),
        ("ftp://example.com", "http"),
        ("http://exa\nmple.com", "control"),
        ("http://", "no host"),
    ],
)
def test_bad_base_urls(url: str, why: str) -> None:
    with pytest.raises(kairos.ConfigurationError) as info:
        kairos.provider("openai", base_url=url, api_key=KEY)
    assert "base_url" in str(info.value) and why in str(info.value)
    with pytest.raises(kairos.ConfigurationError):
        kairos.async_provider("openai", base_url=url, api_key=KEY)


def test_bad_base_url_from_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://[::1")
    with pytest.raises(kairos.ConfigurationError) as info:
        kairos.provider("ollama")
    assert str(info.value).startswith("OLLAMA_HOST:")
    monkeypatch.setenv("OLLAMA_HOST", "127.0.0.1:notaport")
    with pytest.raises(kairos.ConfigurationError, match="OLLAMA_HOST"):
        kairos.provider("ollama")


@pytest.mark.parametrize(
    ("key", "why"),
    [("sk-abc\ndef-123456", "control character"), ("sk-€uro-123456789", "cannot carry")],
)
def test_keys_http_cannot_carry_are_refused_without_showing_them(key: str, why: str) -> None:
    for make in (kairos.provider, kairos.async_provider):
        with pytest.raises(kairos.ConfigurationError) as info:
            make("anthropic", api_key=key)
        text = str(info.value) + repr(info.value)
        assert why in text and "not shown" in text
        assert "abc" not in text and "uro" not in text


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({"x-note": "a\r\nInjected: yes"}, "control character"),
        ({"x-note": "€"}, "non-Latin-1"),
        ({"bad name": "v"}, "header name"),
        ({"x-num": 3}, "string"),
    ],
)
def test_header_values_http_cannot_carry(headers: dict[str, Any], why: str) -> None:
    with pytest.raises(kairos.ConfigurationError, match=why):
        kairos.provider("openai", api_key=KEY, headers=headers)


def test_latin1_header_values_are_sent_as_latin1() -> None:
    with EmulatorServer({"replies": ["ok"]}) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        with kairos.provider("openai", base_url=url, api_key=KEY, headers={"x-who": "José"}) as p:
            p.chat(_req())
        # the emulator's host decodes header bytes as Latin-1 (as HTTP defines them)
        assert srv.requests[0].headers["x-who"] == "José"


@pytest.mark.parametrize(
    ("variable", "value", "why"),
    [
        ("ALL_PROXY", "socks5://user:hunter2-secret@127.0.0.1:1080", "socks"),
        ("HTTPS_PROXY", "http://[::1:bad", "proxy URL"),
        ("HTTP_PROXY", "ftp://user:hunter2-secret@proxy.example", "proxy URL"),
    ],
)
def test_proxy_settings_httpx_cannot_use(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, why: str
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv(variable, value)
    for make in (kairos.provider, kairos.async_provider):
        with pytest.raises(kairos.ConfigurationError) as info:
            make("openai", api_key=KEY)
        assert variable in str(info.value) and why in str(info.value)
        assert "hunter2" not in str(info.value)


@pytest.mark.parametrize("value", [math.nan, math.inf, -1.0, 0, 1e400, "30", True])
def test_bad_timeouts(value: Any) -> None:
    with pytest.raises(kairos.ConfigurationError, match="timeout"):
        kairos.provider("openai", api_key=KEY, timeout=value)
    for field in ("connect", "first_chunk", "idle", "total"):
        with pytest.raises(kairos.ConfigurationError, match=f"Timeouts.{field}"):
            kairos.Timeouts(**{field: value})


def test_bad_retry_and_size_options() -> None:
    with pytest.raises(kairos.ConfigurationError, match="max_retries"):
        kairos.provider("openai", api_key=KEY, max_retries=-1)
    with pytest.raises(kairos.ConfigurationError, match="base_delay"):
        kairos.RetryPolicy(base_delay=math.nan)
    with pytest.raises(kairos.ConfigurationError, match="max_event_bytes"):
        kairos.provider("openai", api_key=KEY, max_event_bytes=0)
    with pytest.raises(kairos.ConfigurationError, match="options"):
        kairos.provider("openai", api_key=KEY, options=[("a", 1)])  # type: ignore[arg-type]


# -- lifecycle --------------------------------------------------------------------------------
def test_a_closed_provider_used_again(server: LoopbackServer) -> None:
    p = kairos.provider("openai", base_url=server.url, api_key=KEY)
    p.close()
    with pytest.raises(kairos.ConfigurationError, match="closed"):
        p.chat(_req())
    client = httpx.Client()
    mine = kairos.provider("openai", base_url=server.url, api_key=KEY, http_client=client)
    client.close()
    with pytest.raises(kairos.ConfigurationError, match="closed"):
        mine.chat(_req())

    async def main() -> None:
        ap = kairos.async_provider("openai", base_url=server.url, api_key=KEY)
        await ap.aclose()
        with pytest.raises(kairos.ConfigurationError, match="closed"):
            await ap.chat(_req())

    asyncio.run(main())
    assert server.requests == []


def test_an_async_provider_in_a_second_event_loop() -> None:
    """Its own client: one per loop, so ``asyncio.run`` twice works. A client the caller
    passed keeps a connection of the first loop: a typed error saying why."""
    with EmulatorServer({"replies": ["ok"]}) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        p = kairos.async_provider("openai", base_url=url, api_key=KEY)
        for _ in range(3):
            assert asyncio.run(p.chat(_req())).content == "ok"
        asyncio.run(p.aclose())

        client = httpx.AsyncClient()
        mine = kairos.async_provider("openai", base_url=url, api_key=KEY, http_client=client)

        async def first() -> str:
            reply = (await mine.chat(_req())).content
            # a body read whole: its connection is back in the pool when the loop ends (the
            # stream's own connection may still be draining then, and goes with the loop)
            await client.get(url.rstrip("/") + "/nothing-here")
            return reply

        assert asyncio.run(first()) == "ok"
        assert len(srv.requests) == 4
        with pytest.raises(kairos.ConfigurationError, match="event loop"):
            asyncio.run(mine.chat(_req()))
