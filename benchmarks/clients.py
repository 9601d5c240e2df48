"""The clients the benchmark compares, each reading one stream to the end.

Every client has ``setup(port, fmt)`` (outside the timed part: build the client object) and
``stream(model)`` / ``astream(model)``, returning ``(chunks, text)``: how many content chunks it
saw and their text joined, which the runner checks against what the server sent. Tool streams
(mode ``tools``) return the final tool-call arguments as ``text`` instead.
"""

from __future__ import annotations

import json
import socket
from typing import Any

from clients_openai import ResponsesHelper, ResponsesSDK, openai_clients

PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "gemini": "/v1beta/models/{model}:streamGenerateContent?alt=sse",
    "ollama": "/api/chat",
    "responses": "/v1/responses",
}
SEP = {"openai": b"\n\n", "anthropic": b"\n\n", "gemini": b"\r\n\r\n", "ollama": b"\n"}
SEP["responses"] = b"\n\n"


def _path(fmt: str, model: str) -> str:
    return PATHS[fmt].format(model=model)


def _body(model: str) -> dict[str, Any]:
    return {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": True}


def _text(fmt: str, obj: Any) -> str | None:
    """The content of one parsed event, the way each wire format nests it."""
    if fmt == "openai":
        choices = obj.get("choices")
        return choices[0]["delta"].get("content") if choices else None
    if fmt == "anthropic":
        return obj["delta"].get("text") if obj.get("type") == "content_block_delta" else None
    if fmt == "gemini":
        return obj["candidates"][0]["content"]["parts"][0].get("text")
    if fmt == "responses":
        return obj["delta"] if obj["type"] == "response.output_text.delta" else None
    return obj["message"]["content"] or None


# -- the floor: a raw socket, the HTTP head parsed by hand, json.loads per event -----------------
class Floor:
    name = "floor"

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        self.port, self.fmt = port, fmt

    def _request(self, model: str) -> bytes:
        body = json.dumps(_body(model)).encode()
        head = f"POST {_path(self.fmt, model)} HTTP/1.1\r\nhost: 127.0.0.1\r\n"
        head += f"content-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
        return head.encode() + body

    def _events(self, data: bytes, out: list[str]) -> None:
        fmt, loads = self.fmt, json.loads
        for ev in data.decode().split(SEP[fmt].decode()):
            if not ev:
                continue
            if fmt != "ollama":
                ev = ev[ev.find("data: ") + 6 :]
                if ev == "[DONE]":
                    continue
            text = _text(fmt, loads(ev))
            if text:
                out.append(text)

    @staticmethod
    def _dechunk(buf: bytes) -> tuple[bytes, bytes, bool]:
        """The payload of the complete HTTP chunks in ``buf``, the rest, and whether the last
        (empty) chunk came."""
        out, pos, end = [], 0, len(buf)
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                break
            size = int(buf[pos:eol], 16)
            if size == 0:
                return b"".join(out), b"", True
            stop = eol + 2 + size
            if stop + 2 > end:
                break
            out.append(buf[eol + 2 : stop])
            pos = stop + 2
        return b"".join(out), buf[pos:], False

    def _feed(self, st: dict[str, Any], data: bytes, out: list[str]) -> bool:
        """Take bytes read from the socket; True once the body is complete."""
        sep = SEP[self.fmt]
        if st["chunked"]:
            payload, st["raw"], done = self._dechunk(st["raw"] + data)
        else:
            st["left"] -= len(data)
            payload, done = data, st["left"] <= 0
        buf = st["buf"] + payload
        cut = buf.rfind(sep)
        if cut >= 0:
            self._events(buf[:cut], out)
            buf = buf[cut + len(sep) :]
        st["buf"] = buf
        return done

    @staticmethod
    def _head(head: bytes) -> dict[str, Any]:
        low = head.lower()
        st: dict[str, Any] = {"chunked": b"chunked" in low, "raw": b"", "buf": b"", "left": 0}
        if not st["chunked"]:
            at = low.find(b"content-length:") + 15
            st["left"] = int(low[at : low.find(b"\r\n", at)])
        return st

    def stream(self, model: str) -> tuple[int, str]:
        sock = socket.create_connection(("127.0.0.1", self.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            sock.sendall(self._request(model))
            buf = b""
            while b"\r\n\r\n" not in buf:
                buf += sock.recv(65536)
            end = buf.find(b"\r\n\r\n") + 4
            st, out = self._head(buf[:end]), []
            data = buf[end:]
            while not self._feed(st, data, out):
                data = sock.recv(65536)
                if not data:
                    break
            return len(out), "".join(out)
        finally:
            sock.close()

    async def astream(self, model: str, out: list[str] | None = None) -> tuple[int, str]:
        import asyncio

        out = [] if out is None else out
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(self._request(model))
            st = self._head(await reader.readuntil(b"\r\n\r\n"))
            data = b""
            while not self._feed(st, data, out):
                data = await reader.read(65536)
                if not data:
                    break
            return len(out), "".join(out)
        finally:
            writer.close()


# -- plain httpx: iter_lines() + json.loads ------------------------------------------------------
class Httpx:
    name = "httpx"

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        import httpx

        self.fmt, self.base = fmt, f"http://127.0.0.1:{port}"
        limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
        self.client = httpx.Client(limits=limits, timeout=60)
        self.aclient = httpx.AsyncClient(limits=limits, timeout=60)

    def _line(self, line: str, out: list[str]) -> None:
        if self.fmt != "ollama":
            if not line.startswith("data: ") or line == "data: [DONE]":
                return
            line = line[6:]
        elif not line:
            return
        text = _text(self.fmt, json.loads(line))
        if text:
            out.append(text)

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        url = self.base + _path(self.fmt, model)
        with self.client.stream("POST", url, json=_body(model)) as r:
            for line in r.iter_lines():
                self._line(line, out)
        return len(out), "".join(out)

    async def astream(self, model: str, out: list[str] | None = None) -> tuple[int, str]:
        out = [] if out is None else out
        url = self.base + _path(self.fmt, model)
        async with self.aclient.stream("POST", url, json=_body(model)) as r:
            async for line in r.aiter_lines():
                self._line(line, out)
        return len(out), "".join(out)


# -- kairos: full StreamChunk objects with accumulation --------------------------------------------
KAIROS_PRESET = {
    "openai": "openai-compatible",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "responses": "openai-responses",
}


class Kairos:
    name = "kairos"

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        import httpx

        import kairos

        base = f"http://127.0.0.1:{port}" + ("/v1" if fmt in ("openai", "responses") else "")
        limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
        kw: dict[str, Any] = {"api_key": "bench-key", "base_url": base}
        preset = KAIROS_PRESET[fmt]
        self.p = kairos.provider(preset, http_client=httpx.Client(limits=limits), **kw)
        self.ap = kairos.async_provider(preset, http_client=httpx.AsyncClient(limits=limits), **kw)
        self.tools = False

    def _req(self, model: str) -> Any:
        import kairos

        self.tools = "-tools" in model
        return kairos.ChatRequest([kairos.Message.user("hi")], model=model)

    def _result(self, out: list[str], last: Any) -> tuple[int, str]:
        assert last is not None and last.done and last.error is None, last
        if self.tools:
            return len(out), last.tool_calls[0].arguments
        return len(out), "".join(out)

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        chunk = None
        with self.p.chat_stream(self._req(model)) as s:
            for chunk in s:
                if chunk.content:
                    out.append(chunk.content)
                elif self.tools and not chunk.done:
                    out.append("")
        return self._result(out, chunk)

    async def astream(self, model: str, out: list[str] | None = None) -> tuple[int, str]:
        out = [] if out is None else out
        chunk = None
        async with await self.ap.chat_stream(self._req(model)) as s:
            async for chunk in s:
                if chunk.content:
                    out.append(chunk.content)
                elif self.tools and not chunk.done:
                    out.append("")
        return self._result(out, chunk)


# -- kairos watched by observers (issue 15): what hooks cost per chunk ---------------------------
class KairosObserved(Kairos):
    """kairos with one registered observer that defines every hook, ``on_chunk`` included,
    and does nothing in them: the hook machinery's own cost per chunk."""

    name = "kairos-observed"
    formats = ("openai", "anthropic")

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        import kairos

        class Nothing(kairos.Observer):
            def on_chunk(self, call: Any, chunk: Any, at: float) -> None:
                pass

        kairos.observers.add(Nothing())
        super().setup(port, fmt, conc)


class KairosOtel(Kairos):
    """kairos with ``kairos.otel.instrument()`` on the OpenTelemetry SDK (spans to an
    in-memory exporter, metrics to an in-memory reader): one span per stream and one
    ``time_per_output_chunk`` measurement per chunk."""

    name = "kairos-otel"
    formats = ("openai", "anthropic")

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

        import kairos.otel

        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(InMemorySpanExporter()))
        meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
        kairos.otel.instrument(tracer_provider, meter_provider)
        super().setup(port, fmt, conc)


# -- official SDKs and LiteLLM (benchmarks/requirements.txt) --------------------------------------
class OpenAISDK:
    name = "openai-sdk"
    formats = ("openai",)

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        self.c, self.ac = openai_clients(port, conc)

    @staticmethod
    def _take(chunk: Any, out: list[str]) -> None:
        if chunk.choices and chunk.choices[0].delta.content:
            out.append(chunk.choices[0].delta.content)

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        msgs = _body(model)["messages"]
        with self.c.chat.completions.create(model=model, messages=msgs, stream=True) as s:
            for chunk in s:
                self._take(chunk, out)
        return len(out), "".join(out)

    async def astream(self, model: str, out: list[str] | None = None) -> tuple[int, str]:
        out = [] if out is None else out
        msgs = _body(model)["messages"]
        s = await self.ac.chat.completions.create(model=model, messages=msgs, stream=True)
        async with s:
            async for chunk in s:
                self._take(chunk, out)
        return len(out), "".join(out)


class AnthropicSDK:
    """Raw events (``messages.create(stream=True)``)."""

    name = "anthropic-sdk"
    formats = ("anthropic",)

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        import anthropic  # its own HTTP stack (httpx2 in SDK 2.x): left at its defaults

        kw = {"base_url": f"http://127.0.0.1:{port}", "api_key": "x", "max_retries": 0}
        self.c = anthropic.Anthropic(**kw)
        self.ac = anthropic.AsyncAnthropic(**kw)

    def _kw(self, model: str) -> dict[str, Any]:
        return {"model": model, "max_tokens": 10, "messages": _body(model)["messages"]}

    @staticmethod
    def _take(ev: Any, out: list[str]) -> None:
        if ev.type == "content_block_delta" and ev.delta.text:
            out.append(ev.delta.text)

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        with self.c.messages.create(stream=True, **self._kw(model)) as s:
            for ev in s:
                self._take(ev, out)
        return len(out), "".join(out)

    async def astream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        s = await self.ac.messages.create(stream=True, **self._kw(model))
        async with s:
            async for ev in s:
                self._take(ev, out)
        return len(out), "".join(out)


class AnthropicHelper(AnthropicSDK):
    """The SDK's stream helper (``messages.stream()``), which also accumulates the message."""

    name = "anthropic-helper"

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        with self.c.messages.stream(**self._kw(model)) as s:
            for ev in s:
                if ev.type == "text":
                    out.append(ev.text)
        return len(out), "".join(out)

    async def astream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        async with self.ac.messages.stream(**self._kw(model)) as s:
            async for ev in s:
                if ev.type == "text":
                    out.append(ev.text)
        return len(out), "".join(out)


class LiteLLM:
    name = "litellm"
    formats = ("openai",)

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        import litellm

        self.m = litellm
        self.kw = {"api_base": f"http://127.0.0.1:{port}/v1", "api_key": "x", "timeout": 60}

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        msgs = _body(model)["messages"]
        for chunk in self.m.completion("openai/" + model, msgs, stream=True, **self.kw):
            OpenAISDK._take(chunk, out)
        return len(out), "".join(out)

    async def astream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        msgs = _body(model)["messages"]
        s = await self.m.acompletion("openai/" + model, msgs, stream=True, **self.kw)
        async for chunk in s:
            OpenAISDK._take(chunk, out)
        return len(out), "".join(out)


CLIENTS: dict[str, Any] = {
    c.name: c
    for c in (
        *(Floor, Httpx, Kairos, KairosObserved, KairosOtel),
        *(OpenAISDK, AnthropicSDK, AnthropicHelper, LiteLLM),
        *(ResponsesSDK, ResponsesHelper),
    )
}
BASIC = ("floor", "httpx", "kairos")  # need nothing from benchmarks/requirements.txt


ALL_FORMATS = ("openai", "anthropic", "gemini", "ollama", "responses")


def formats(name: str) -> tuple[str, ...]:
    return getattr(CLIENTS[name], "formats", ALL_FORMATS)
