"""The wires the fault tests run on: recorded success bodies, cut into events, plus the shapes
the faults need, rendered by each wire's own renderer through the registry.

Each wire's test folder holds its row (``tests/providers/<wire>/fault_rows.py``): the preset,
the recorded success case to cut, the retryable failure kind to send in-band, what kairos can
say about a context-length body from structured fields only, and ``visible_text``: the
caller-visible text of one event, read independently of kairos, so a test can say what partial
content a truncated stream must keep. Everything else (a keep-alive, an in-band error, HTTP
error bodies, a non-stream answer, a content event) comes from the wire's renderer
(:mod:`kairos.providers._render`) and its :class:`~kairos.providers.WireSpec`: this module
renders nothing on its own and names no wire.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import UnionType
from typing import Any
from urllib.parse import urlsplit

import pytest

import kairos
from cases import TESTS, conformance
from faults import Fault
from kairos.providers import PRESETS, resolve_wire, wire_spec
from kairos.providers._render import http_error_body, render_body, render_error, render_stream
from kairos.testing import Fail, Reply, Text

MODES = ["sync", "async"]


@dataclass(frozen=True)
class Wire:
    name: str  # the preset used (also the test id)
    fmt: str  # the conformance folder
    case: str  # the recorded success body the faults cut
    inband_kind: str  # a retryable failure kind, sent as an in-band error event
    inband_cls: type[kairos.APIStatusError]  # what kairos raises for it
    context_cls: type[kairos.APIStatusError]  # what kairos can say from structured fields only
    trailer: int  # trailing events carrying the finish reason / end marker
    visible_text: Callable[[dict[str, Any]], str]  # one event's caller-visible text
    context_body_override: dict[str, Any] | None = None  # a provider's own "prompt too long"

    @property
    def wire(self) -> str:
        return resolve_wire(self.name)

    @property
    def suffix(self) -> str:
        """Appended to the server URL for the base URL: the path of the preset's own."""
        return urlsplit(PRESETS[self.name].base_url).path.rstrip("/")

    @property
    def ctype(self) -> str:
        return wire_spec(self.wire).stream_type

    @property
    def sse(self) -> bool:
        return wire_spec(self.wire).framing == "sse"

    @property
    def keepalive(self) -> bytes:
        """Bytes a server sends to keep the connection alive; never an event."""
        return wire_spec(self.wire).keepalive

    def _frames(self, reply: Reply) -> list[bytes]:
        return [f for f in render_stream(reply, self.wire, "m") if isinstance(f, bytes)]

    @property
    def inband_error(self) -> bytes:
        """A retryable error event, in the wire's own shape."""
        return self._frames(Reply([Fail(self.inband_kind, "the model is busy")]))[-1]

    def status_body(self, status: int) -> dict[str, Any]:
        """The provider's HTTP error body for a status."""
        return dict(json.loads(http_error_body(self.wire, status, f"HTTP {status} test")))

    @property
    def context_body(self) -> dict[str, Any]:
        """Its 400 "prompt too long" body."""
        if self.context_body_override is not None:
            return self.context_body_override
        fail = Fail("context_length", "the prompt is longer than the model's context")
        return dict(json.loads(render_error(fail, self.wire)))

    @property
    def answer(self) -> dict[str, Any]:
        """A complete non-stream answer with content "Hi there"."""
        reply = Reply.text("Hi there", usage=kairos.Usage(3, 2, 5))
        return dict(json.loads(render_body(reply, self.wire, "m")))

    @property
    def body(self) -> bytes:
        return next((conformance(self.fmt) / self.case).glob("response.*")).read_bytes()

    @property
    def expected(self) -> dict[str, Any]:
        case = json.loads((conformance(self.fmt) / self.case / "case.json").read_text())
        return dict(case["expected"])

    @property
    def events(self) -> list[bytes]:
        """The body's framed events, each with its delimiter."""
        if self.sse:
            parts = re.split(rb"(?:\r\n|\n){2}", self.body.strip())
            return [p + b"\n\n" for p in parts if p.strip()]
        return [line + b"\n" for line in self.body.splitlines() if line.strip()]

    @property
    def head(self) -> list[bytes]:
        """The events up to and including the first one with visible text."""
        events = self.events
        for n in range(1, len(events) + 1):
            if text_of(self, events[:n]):
                return events[:n]
        raise AssertionError(f"{self.name}: no content in {self.case}")

    @property
    def end(self) -> bytes:
        return self.events[-1]

    def reply(self, pieces: Iterable[Any], **kw: Any) -> Fault:
        return Fault(headers={"content-type": self.ctype}, pieces=pieces, **kw)


def _data(event: bytes) -> dict[str, Any] | None:
    lines = [ln for ln in event.splitlines() if ln.startswith(b"data:")]
    raw = b"\n".join(ln[5:].strip() for ln in lines) if lines else event.strip()
    try:
        obj = json.loads(raw)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


def content_event(wire: Wire, text: str) -> bytes:
    """One event carrying ``text`` as content, in the wire's own shape (not the last one)."""
    frames = wire._frames(Reply([Text(text), Text("")]))
    return next(f for f in frames if wire.visible_text(_data(f) or {}) == text)


def line_start(wire: Wire) -> bytes:
    """The start of an event that never ends (no line end follows)."""
    return b'data: {"x": "' if wire.sse else b'{"x": "'


def text_of(wire: Wire, events: list[bytes]) -> str:
    return "".join(wire.visible_text(_data(ev) or {}) for ev in events)


def _rows() -> list[Wire]:
    """Every wire's rows, from ``tests/providers/*/fault_rows.py``."""
    out = []
    for path in sorted(TESTS.glob("providers/*/fault_rows.py")):
        spec = importlib.util.spec_from_file_location(f"fault_rows_{path.parent.name}", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out += [Wire(**row, visible_text=module.visible_text) for row in module.ROWS]
    return out


WIRES = _rows()
WIRE_IDS = [w.name for w in WIRES]
wires = pytest.mark.parametrize("wire", WIRES, ids=WIRE_IDS)
modes = pytest.mark.parametrize("mode", MODES)

REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")
FAST = kairos.RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02)


# -- running a stream ---------------------------------------------------------------------------
@dataclass
class Run:
    chunks: list[kairos.StreamChunk]
    raised: BaseException | None  # what iterating past the final chunk raised
    elapsed: float

    @property
    def final(self) -> kairos.StreamChunk:
        return self.chunks[-1]

    @property
    def content(self) -> str:
        return "".join(c.content for c in self.chunks)

    @property
    def error(self) -> kairos.KairosError | None:
        return self.final.error


def _kw(wire: Wire, url: str, kw: dict[str, Any]) -> dict[str, Any]:
    return {"api_key": "test-key", "base_url": url + wire.suffix, "max_retries": 0, **kw}


def stream(
    wire: Wire,
    mode: str,
    url: str,
    on_chunk: Callable[[kairos.StreamChunk], None] | None = None,
    **kw: Any,
) -> Run:
    """Drain one stream; an error before the body raises from here (like ``chat_stream``)."""
    kw = _kw(wire, url, kw)
    t0 = time.monotonic()
    chunks: list[kairos.StreamChunk] = []
    raised: BaseException | None = None
    if mode == "sync":
        with kairos.provider(wire.name, **kw) as p, p.chat_stream(REQ) as s:
            try:
                for c in s:
                    chunks.append(c)
                    if on_chunk:
                        on_chunk(c)
            except kairos.KairosError as exc:
                raised = exc
        return Run(chunks, raised, time.monotonic() - t0)

    async def main() -> Run:
        nonlocal raised
        async with kairos.async_provider(wire.name, **kw) as p, await p.chat_stream(REQ) as s:
            try:
                async for c in s:
                    chunks.append(c)
                    if on_chunk:
                        on_chunk(c)
            except kairos.KairosError as exc:
                raised = exc
        return Run(chunks, raised, time.monotonic() - t0)

    return asyncio.run(main())


def assert_ok(run: Run, wire: Wire) -> None:
    assert run.error is None, run.error
    assert run.raised is None
    assert run.content == wire.expected["content"]
    assert [c.done for c in run.chunks].count(True) == 1 and run.final.done


def assert_failed(
    run: Run, cls: type[BaseException] | UnionType, content: str
) -> kairos.KairosError:
    """One final chunk carrying a typed error with the partial content; iterating raised it."""
    assert [c.done for c in run.chunks].count(True) == 1 and run.final.done
    err = run.error
    assert isinstance(err, cls), repr(err)
    assert run.raised is err
    assert err.partial is not None and err.partial.content == content
    assert run.content == content
    assert "\n" not in str(err)
    return err
