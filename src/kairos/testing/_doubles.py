"""Scripted and function-driven providers: real kairos providers over an in-memory transport.

Each double is a genuine :class:`kairos.HTTPProvider` (or :class:`kairos.AsyncHTTPProvider`)
built from a preset's codec. Its httpx client's transport renders the next reply with the
wire renderers (``_render``) and serves the bytes with their pauses, so every chunk goes
through the same codec, decoder and stream machine as a real provider's: same chunk semantics,
stats, errors, cancellation and ``chat()`` parity. With ``strict=True`` a request the real
API would reject (a tool-loop turn without its thinking block or ``reasoning_content``, a part
the wire cannot take: each wire's ``strict`` rules) gets that provider's error answer instead
of a reply, and takes no reply.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union
from urllib.parse import unquote

import httpx

from .._codec import HTTPRequest
from .._provider import AsyncHTTPProvider, HTTPProvider, async_provider, provider
from .._replies import PIECES, Reply, Text, estimate_tokens
from .._reply_files import reply_from_dict
from ..errors import ConfigurationError
from ..llm import ChatRequest
from ..providers import PRESETS, demo_preset, resolve_wire, strict_check, wire_spec
from ..providers._render import error_status, http_error_body, render_body, render_stream
from ._transport import BodyStream, paced_response

__all__ = [
    "AsyncFunctionProvider",
    "AsyncScriptedProvider",
    "Exchange",
    "FunctionProvider",
    "ScriptExhausted",
    "ScriptedProvider",
]

BASE_URL = "http://kairos.testing"
_HEADER = "x-kairos-testing-request"
ReplyLike = Union[Reply, str, Mapping[str, Any], Iterable[Any]]  # noqa: UP007


class ScriptExhausted(ConfigurationError):
    """A scripted provider received more requests than it had replies."""


@dataclass
class Exchange:
    """One HTTP request a double answered. ``body`` is the JSON kairos sent; ``stream`` the
    served body (``stream.closed`` / ``stream.completed`` tell how the client left it)."""

    request: ChatRequest | None
    url: str
    body: Any
    reply: Reply | None = None
    stream: BodyStream | None = field(default=None, repr=False)


def _resolve(wire: str) -> tuple[str, str]:
    """``(preset, wire)`` for a wire name (its default preset) or any preset name."""
    name = resolve_wire(wire)
    return (wire if wire in PRESETS else wire_spec(name).preset), name


def as_reply(value: Any) -> Reply:
    """A :class:`Reply` from what a script or a function may give: a ``Reply``, a string (a
    text reply), a script-file mapping, or an iterable of pieces (strings are text pieces)."""
    if isinstance(value, Reply):
        return value
    if isinstance(value, str | Mapping):
        return reply_from_dict(value)
    if isinstance(value, Iterable):
        pieces = [Text(p) if isinstance(p, str) else p for p in value]
        for p in pieces:
            if not isinstance(p, PIECES):
                raise ConfigurationError(f"not a reply piece: {p!r}")
        return Reply(pieces)
    raise ConfigurationError(f"expected a Reply, a string or pieces, got {type(value).__name__}")


class _Backend:
    """What the transport asks: the reply for a request; what it records: the exchanges."""

    def __init__(self, wire: str, model: str) -> None:
        self.wire = wire
        self.model = model
        # one time stamp per double: the same reply renders the same bytes (and tool-call ids,
        # which some codecs derive from a line's time stamp) on every request
        self.created = time.time()
        self.exchanges: list[Exchange] = []
        self.preset: str | None = None  # set by the double: whose rules strict mode applies
        self.strict = False
        self._pending: dict[str, ChatRequest] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def register(self, req: ChatRequest) -> str:
        with self._lock:
            key = str(next(self._ids))
            self._pending[key] = req
        return key

    def exchange(self, request: httpx.Request) -> Exchange:
        key = request.headers.get(_HEADER, "")
        with self._lock:
            req = self._pending.get(key)
        try:
            body = json.loads(request.content or b"null")
        except ValueError:
            body = None
        ex = Exchange(req, str(request.url.copy_with(query=None)), body)
        with self._lock:
            self.exchanges.append(ex)
        return ex

    def reply(self, ex: Exchange) -> Reply:
        raise NotImplementedError

    def rejected(self, request: httpx.Request, ex: Exchange) -> httpx.Response | None:
        """In strict mode, the real API's error answer for a request it would reject."""
        check = strict_check(self.wire) if self.strict else None
        body = ex.body if isinstance(ex.body, dict) else {}
        if check is None:
            return None
        model = str(body.get("model") or _path_model(self.wire, request) or self.model)
        found = check(body, model, self.preset)
        if found is None:
            return None
        status, message = found
        data = http_error_body(self.wire, status, message)
        headers = {"content-type": "application/json"}
        response, ex.stream = paced_response(request, status, headers, [data])
        return response

    async def areply(self, ex: Exchange) -> Reply:
        return self.reply(ex)

    def respond(self, request: httpx.Request, ex: Exchange, reply: Reply) -> httpx.Response:
        ex.reply = reply
        body = ex.body if isinstance(ex.body, dict) else {}
        model = body.get("model") or _path_model(self.wire, request) or self.model
        prompt = _prompt_tokens(ex.request, request.content)
        if body.get("stream") is False:
            status = error_status(reply.failure.kind, self.wire) if reply.failure else 200
            data = render_body(
                reply,
                self.wire,
                str(model),
                prompt_tokens=prompt,
                created=self.created,
                request=body,
            )
            headers = {"content-type": "application/json"}
            response, ex.stream = paced_response(request, status, headers, [data])
            return response
        opted_in = not wire_spec(self.wire).usage_opt_in
        usage = (body.get("stream_options") or {}).get("include_usage", opted_in)
        frames = render_stream(
            reply,
            self.wire,
            str(model),
            prompt_tokens=prompt,
            include_usage=bool(usage),
            created=self.created,
            request=body,
        )
        headers = {"content-type": wire_spec(self.wire).stream_type}
        response, ex.stream = paced_response(request, 200, headers, frames)
        return response


def _path_model(wire: str, request: httpx.Request) -> str | None:
    """The model named in the request's path, for wires whose routes carry it."""
    path = unquote(request.url.path)
    for route in wire_spec(wire).routes:
        found = re.search(f"(?:{route.path})$", path)
        if found is not None and found.groupdict().get("model"):
            return found.group("model")
    return None


def _prompt_tokens(req: ChatRequest | None, raw: bytes) -> int:
    if req is None:
        return max(1, len(raw) // 4)
    words = sum(estimate_tokens(m.content) + 4 for m in req.messages)
    return max(1, words + sum(8 + len(json.dumps(dict(t.parameters))) // 4 for t in req.tools))


class _Transport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    def __init__(self, backend: _Backend) -> None:
        self.backend = backend

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        ex = self.backend.exchange(request)
        rejected = self.backend.rejected(request, ex)
        if rejected is not None:
            return rejected
        return self.backend.respond(request, ex, self.backend.reply(ex))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        ex = self.backend.exchange(request)
        rejected = self.backend.rejected(request, ex)
        if rejected is not None:
            return rejected
        return self.backend.respond(request, ex, await self.backend.areply(ex))


class _Scripted(_Backend):
    def __init__(self, replies: Sequence[Reply | str], wire: str, model: str) -> None:
        super().__init__(wire, model)
        self.replies = [as_reply(r) for r in replies]
        self._next = 0

    @property
    def used(self) -> int:
        """Replies taken so far (a request rejected in strict mode takes none)."""
        return self._next

    def reply(self, ex: Exchange) -> Reply:
        with self._lock:
            index = self._next
            self._next += 1
        if index >= len(self.replies):
            n = len(self.replies)
            raise ScriptExhausted(
                f"scripted provider: request {index + 1} but the script has {n} "
                f"repl{'y' if n == 1 else 'ies'}"
            )
        return self.replies[index]


class _Function(_Backend):
    def __init__(self, fn: Callable[[ChatRequest], Any], wire: str, model: str) -> None:
        super().__init__(wire, model)
        self.fn = fn

    def _request(self, ex: Exchange) -> ChatRequest:
        if ex.request is None:  # pragma: no cover - every request goes through chat_stream
            raise ConfigurationError("function provider: request not sent by this provider")
        return ex.request

    def reply(self, ex: Exchange) -> Reply:
        value = self.fn(self._request(ex))
        if inspect.isawaitable(value) or hasattr(value, "__aiter__"):
            if inspect.iscoroutine(value):
                value.close()  # never awaited: close it so Python does not warn
            raise ConfigurationError("an async function needs AsyncFunctionProvider")
        return as_reply(value)

    async def areply(self, ex: Exchange) -> Reply:
        value = self.fn(self._request(ex))
        if inspect.isawaitable(value):
            value = await value
        if hasattr(value, "__aiter__"):
            value = [piece async for piece in value]
        return as_reply(value)


def _parts(
    backend: _Backend, preset: str, model: str, kw: dict[str, Any], sync: bool
) -> tuple[Any, Any]:
    kw.setdefault("max_retries", 0)
    kw.setdefault("api_key", "kairos-testing-key")
    transport = _Transport(backend)
    if sync:
        client: Any = httpx.Client(transport=transport)
        return provider(preset, model=model, base_url=BASE_URL, http_client=client, **kw), client
    client = httpx.AsyncClient(transport=transport)
    real = async_provider(preset, model=model, base_url=BASE_URL, http_client=client, **kw)
    return real, client


class _SyncDouble(HTTPProvider):
    _backend: _Backend

    def _setup(self, backend: _Backend, preset: str, model: str, kw: dict[str, Any]) -> None:
        self._backend = backend
        backend.preset, backend.strict = preset, bool(kw.pop("strict", False))
        self.requests: list[ChatRequest] = []
        real, client = _parts(backend, preset, model, kw, True)
        super().__init__(real.codec, real.options, client, real.observers)
        self._own = True  # the in-memory client is ours to close

    @property
    def exchanges(self) -> list[Exchange]:
        """Every HTTP request answered (retries included), in order."""
        return self._backend.exchanges

    def _request(self, req: ChatRequest) -> HTTPRequest:
        self.requests.append(req)
        request = super()._request(req)
        request.headers[_HEADER] = self._backend.register(req)
        return request


class _AsyncDouble(AsyncHTTPProvider):
    _backend: _Backend

    def _setup(self, backend: _Backend, preset: str, model: str, kw: dict[str, Any]) -> None:
        self._backend = backend
        backend.preset, backend.strict = preset, bool(kw.pop("strict", False))
        self.requests: list[ChatRequest] = []
        real, client = _parts(backend, preset, model, kw, False)
        super().__init__(real.codec, real.options, client, real.observers)
        self._own = True

    @property
    def exchanges(self) -> list[Exchange]:
        return self._backend.exchanges

    def _request(self, req: ChatRequest) -> HTTPRequest:
        self.requests.append(req)
        request = super()._request(req)
        request.headers[_HEADER] = self._backend.register(req)
        return request


class ScriptedProvider(_SyncDouble):
    """A provider answering each request with the next scripted reply (a :class:`Reply` or a
    string). ``wire``: a wire name (``openai-chat``, the default; ``anthropic-messages``,
    ``gemini``, ``ollama-chat``, ``openai-responses``) or any preset name (``"anthropic"``,
    ``"qwen"``...). Other keywords go to :func:`kairos.provider` (``timeout``,
    ``options``...); ``max_retries`` defaults to 0 here: pass it to test retries (each retry
    takes a reply). ``strict=True``: requests the real API rejects get its error answer (see
    the module docstring)."""

    def __init__(
        self,
        replies: Sequence[Reply | str],
        wire: str | None = None,
        model: str = "scripted",
        **kw: Any,
    ) -> None:
        preset, render_wire = _resolve(wire or demo_preset().wire)
        self._setup(_Scripted(replies, render_wire, model), preset, model, kw)

    @property
    def remaining(self) -> int:
        """Replies not used yet."""
        backend = self._backend
        assert isinstance(backend, _Scripted)
        return max(0, len(backend.replies) - backend.used)


class AsyncScriptedProvider(_AsyncDouble):
    """The async twin of :class:`ScriptedProvider`."""

    def __init__(
        self,
        replies: Sequence[Reply | str],
        wire: str | None = None,
        model: str = "scripted",
        **kw: Any,
    ) -> None:
        preset, render_wire = _resolve(wire or demo_preset().wire)
        self._setup(_Scripted(replies, render_wire, model), preset, model, kw)


class FunctionProvider(_SyncDouble):
    """A provider whose replies come from ``fn(request)``: it returns a :class:`Reply`, a
    string, or yields pieces (``Text``/``Reasoning``/``Call``/``Pause``/``Fail``, or strings).
    The reply is rendered on ``wire`` and streamed like :class:`ScriptedProvider`'s."""

    def __init__(
        self,
        fn: Callable[[ChatRequest], Any],
        wire: str | None = None,
        model: str = "function",
        **kw: Any,
    ) -> None:
        preset, render_wire = _resolve(wire or demo_preset().wire)
        self._setup(_Function(fn, render_wire, model), preset, model, kw)


class AsyncFunctionProvider(_AsyncDouble):
    """The async twin of :class:`FunctionProvider`; ``fn`` may also be ``async def`` or an
    async generator."""

    def __init__(
        self,
        fn: Callable[[ChatRequest], Any | Awaitable[Any]],
        wire: str | None = None,
        model: str = "function",
        **kw: Any,
    ) -> None:
        preset, render_wire = _resolve(wire or demo_preset().wire)
        self._setup(_Function(fn, render_wire, model), preset, model, kw)
