"""The Ollama native chat wire (``/api/chat``).

Wire facts (ollama/ollama ``docs/api.md`` "Generate a chat completion", ``docs/api/errors.mdx``,
``server/routes.go`` ``streamResponse``; the official ``ollama`` Python client's ``Message``):
``POST {host}/api/chat`` answers newline-delimited JSON objects. Each line has ``model``,
``created_at``, ``message`` (``content``, ``thinking`` when thinking is on, ``tool_calls``) and
``done``; the last line has ``done: true``, ``done_reason`` (``stop``, ``length``, ``load``,
``unload``; absent on older servers), ``prompt_eval_count``, ``eval_count`` and durations.
A tool call is ``{"function": {"name", "arguments"}}`` with ``arguments`` a JSON *object*; it
arrives whole (several calls may come on one line or on several lines); newer servers add an
``id`` and ``function.index``. ``/api/generate`` lines carry the text as ``response``.
Sampling settings go in ``options`` (``temperature``, ``top_p``, ``num_predict``, ``stop``).
Tool results are ``{"role": "tool", "content", "tool_name"}`` messages.

Errors: before any line is written the server answers an HTTP status (500 unless the handler
chose one, 404 for an unknown model...) with ``{"error": "<text>"}``. Once lines were written
an error is one more line, ``{"error": "<text>"}``, under the HTTP 200; the status the handler
chose is dropped. Kairos types such a line as :class:`~kairos.ServerError` with
``status=None``: the server's own default for an error without a chosen status is 500, the
error text is never inspected, and a line that does carry a numeric status (a proxy or a
hosted server sending an object) is typed by that status instead.
"""

from __future__ import annotations

from .._spec import Probe, Route, WireSpec

__all__ = ["WIRE"]

_TAGS = (
    '{"models": [{"name": "{model}", "model": "{model}", "modified_at": "1970-01-01T00:00:00Z", '
    '"size": 0, "digest": "' + "0" * 64 + '", "details": {"format": "kairos-serve", '
    '"family": "emulator"}}]}'
)
WIRE = WireSpec(
    name="ollama-chat",
    title="Ollama",
    framing="ndjson",
    preset="ollama",
    routes=(Route(r"/api/chat"),),
    # liveness probes the official client and tools send before chatting
    probes=(
        Probe("/", "Ollama is running", "text/plain; charset=utf-8"),
        Probe("/api/version", '{"version": "0.0.0"}'),
        Probe("/api/tags", _TAGS),
    ),
    looks_like=(r"^/api/", r"/api/(chat|generate)$"),
    stream_default=True,
    keepalive=b"\n",  # NDJSON has no comments: a blank line is the only filler a server sends
)
