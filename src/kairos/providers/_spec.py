"""What the registry knows about a wire format, as data: :class:`WireSpec` and its rows.

Each wire folder (``providers/<wire>/``) declares one ``WIRE = WireSpec(...)`` in its
``__init__``: its name, how its streams are framed, and what the emulator (``kairos serve``,
the testing doubles, the fault tests) needs to speak it: the routes it answers, what its
request bodies look like and the bytes a server sends to keep a stream alive. The code of the
wire lives next to it, in modules every wire names the same way:

* ``codec.py``: ``Codec``, the pure codec (:class:`kairos._codec.WireCodec`): request building,
  event parsing, error mapping;
* ``render.py``: the renderer, a scripted reply -> the exact bytes the provider sends
  (``stream``, ``body``, ``error_object``, ``error_status``, ``http_error_body``; see
  :mod:`kairos.providers._frames`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["Probe", "Route", "WireSpec"]

SSE_TYPE = "text/event-stream; charset=utf-8"
NDJSON_TYPE = "application/x-ndjson"
JSON_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Route:
    """A request the emulator answers with a chat reply on this wire.

    ``path`` is a regular expression matched against the whole path; a group named ``model``
    takes the model from the path. ``stream``: ``None`` when the body's ``stream`` flag (or the
    wire's default) decides, else whether this path streams. ``stream_query``: a query item
    the streaming path also needs (Gemini's ``alt=sse``); without it the answer is a JSON
    array of the streamed objects."""

    path: str
    method: str = "POST"
    stream: bool | None = None
    stream_query: str | None = None

    def match(self, method: str, path: str) -> re.Match[str] | None:
        if method != self.method:
            return None
        return re.fullmatch(self.path, path)


@dataclass(frozen=True, slots=True)
class Probe:
    """A liveness answer some SDKs ask for before chatting (``GET /api/tags``...). ``{model}``
    in the body is replaced by the emulated model name."""

    path: str
    body: str
    content_type: str = JSON_TYPE
    method: str = "GET"


@dataclass(frozen=True, slots=True)
class WireSpec:
    name: str  # the wire's name everywhere: registry, doubles, emulator, tests
    title: str  # for people: "OpenAI Chat Completions"
    framing: Literal["sse", "ndjson"]
    preset: str  # the preset that speaks this wire by default (the testing doubles use it)
    routes: tuple[Route, ...]
    probes: tuple[Probe, ...] = ()
    looks_like: tuple[str, ...] = ()  # path patterns (re.search) whose 404s use this wire's shape
    messages_key: str = "messages"  # the request's list of turns
    content_key: str = "content"  # a turn's text: a string, or a list of parts with "text"
    system_key: str | None = None  # a top-level system prompt field, if the wire has one
    tools_key: str = "tools"  # the request's list of tools it offers the model
    stream_default: bool = False  # streaming when the request body has no "stream" flag
    usage_opt_in: bool = False  # streamed usage only with stream_options.include_usage
    keepalive: bytes = b": keep-alive\n\n"  # what a server sends to keep a stream open

    @property
    def stream_type(self) -> str:
        """The content type of a streamed answer."""
        return SSE_TYPE if self.framing == "sse" else NDJSON_TYPE
