"""The Ollama native codec (``/api/chat``).

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

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from .._codec import Delta, HTTPRequest, ToolDelta, api_error, dumps, loads
from ..errors import APIStatusError, ConfigurationError, ProtocolError, ServerError
from ..llm import ChatRequest, FinishReason, Message, Role, ToolCall, Usage
from ._base import CodecConfig, error_text, json_object, non_json_error, present

__all__ = ["OllamaCodec"]

# "stop" is absent on purpose: Ollama says "stop" after tool calls too, so the stream core
# decides ("tool_calls" when calls arrived, else "stop"); same for an absent or unknown reason.
_FINISH: dict[str, FinishReason] = {
    "length": "length",
    "load": "stop",
    "unload": "stop",
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _arguments(value: Any) -> str:
    """``function.arguments`` as JSON text: objects are serialised, a string is kept as is."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _usage(obj: dict[str, Any]) -> Usage | None:
    prompt, completion = _int(obj.get("prompt_eval_count")), _int(obj.get("eval_count"))
    if prompt is None and completion is None:
        return None
    prompt, completion = prompt or 0, completion or 0
    return Usage(prompt, completion, prompt + completion)


class _Parser:
    """Per-stream state: how many tool calls came so far and which ids were used."""

    __slots__ = ("_codec", "_ids", "complete")

    def __init__(self, codec: OllamaCodec) -> None:
        self._codec = codec
        self._ids: set[str] = set()
        self.complete = False

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        obj = loads(data, self._codec.provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        if "error" in obj and obj["error"] is not None:
            return Delta(error=self._codec.inband_error(obj["error"]))
        # the hot path (once per line): the type checks written inline, positional Delta
        message = obj.get("message")
        if message.__class__ is not dict:
            message = {}
        content = message.get("content") or obj.get("response") or ""
        reasoning = message.get("thinking") or obj.get("thinking") or ""
        raw_calls = message.get("tool_calls")
        tools = self._tools(raw_calls, obj) if raw_calls else None
        done = obj.get("done") is True
        if done:
            self.complete = True
        if not (content or reasoning or tools or done):
            return None
        reason = obj.get("done_reason")  # any JSON value: only a string is a reason
        model = obj.get("model")
        return Delta(
            content if content.__class__ is str else "",
            reasoning if reasoning.__class__ is str else "",
            tools,
            _usage(obj) if done else None,
            reason if done and reason.__class__ is str else None,
            model if model.__class__ is str else None,
            None,
            done,
        )

    def _tools(self, raw: Any, obj: dict[str, Any]) -> list[ToolDelta] | None:
        if not isinstance(raw, list) or not raw:
            return None
        out = []
        for call in raw:
            fn = _dict(_dict(call).get("function"))
            name = fn.get("name")
            name = name if isinstance(name, str) else ""
            args = _arguments(fn.get("arguments"))
            index = len(self._ids)  # each entry is a whole call: its position among calls
            wire_id = _dict(call).get("id")
            if isinstance(wire_id, str) and wire_id and wire_id not in self._ids:
                call_id = wire_id
            else:
                call_id = _call_id(obj, index, name, args, self._ids)
            self._ids.add(call_id)
            out.append(ToolDelta(index, call_id, name, args))
        return out


def _call_id(obj: dict[str, Any], index: int, name: str, args: str, used: set[str]) -> str:
    """An id for a call the server sent without one: derived from the line's timestamp, the
    call's position, name and arguments, so the same bytes always give the same ids (``chat()``
    equals the drained stream) while calls in different turns or positions differ."""
    seed = f"{obj.get('created_at')}|{obj.get('model')}|{index}|{name}|{args}"
    call_id = "call_" + hashlib.sha256(seed.encode()).hexdigest()[:24]
    while call_id in used:  # cannot collide in practice; keep the promise anyway
        call_id = "call_" + hashlib.sha256(call_id.encode()).hexdigest()[:24]
    return call_id


class OllamaCodec:
    framing: Literal["ndjson"] = "ndjson"

    def __init__(self, config: CodecConfig) -> None:
        self.config = config
        self.provider = config.provider
        self.base_url = config.base_url.rstrip("/")

    def __repr__(self) -> str:
        return f"OllamaCodec(provider={self.provider!r}, base_url={self.base_url!r})"

    # -- requests --------------------------------------------------------------------------
    def build_request(self, req: ChatRequest) -> HTTPRequest:
        body: dict[str, Any] = {
            "model": req.model or self.config.default_model,
            "messages": _messages(req.messages),
            "stream": True,
        }
        # Ollama has no tool_choice: "none" sends no tools, other choices cannot be expressed
        if req.tools and req.tool_choice != "none":
            body["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": t.name,
                        "description": t.description,
                        "parameters": dict(t.parameters),
                    },
                }
                for t in req.tools
            ]
        options = present(
            ("temperature", req.temperature), ("top_p", req.top_p), ("num_predict", req.max_tokens)
        )
        if req.stop:
            options["stop"] = list(req.stop)
        extras = dict(req.extras)
        extra_options = extras.pop("options", None)
        if isinstance(extra_options, Mapping):
            options.update(extra_options)
        if options:
            body["options"] = options
        body.update(extras)  # e.g. {"think": True}, "format", "keep_alive"
        headers = {"content-type": "application/json", "accept": "application/x-ndjson"}
        if self.config.api_key:
            headers["authorization"] = f"Bearer {self.config.api_key}"
        headers.update(self.config.headers)
        return HTTPRequest(
            "POST", f"{self.base_url}/api/chat", headers, dumps(body), self.config.secrets
        )

    def fallback_request(self, request: HTTPRequest, err: Exception) -> HTTPRequest | None:
        return None

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> _Parser:
        return _Parser(self)

    def parse_body(self, body: bytes) -> list[Delta]:
        """A ``stream: false`` answer: one object shaped like a stream's last line, holding the
        whole message."""
        obj = json_object(body)
        if obj is None:
            raise ProtocolError("the server answered the stream request with invalid JSON")
        if obj.get("error") is not None:
            return [Delta(error=self.inband_error(obj["error"]))]
        if obj.get("done") is not True:
            raise ProtocolError("the server answered the stream request with JSON but no done")
        delta = self.new_parser().parse("", dumps(obj))
        return [delta] if delta is not None else []

    def normalise_finish(self, raw: str | None) -> FinishReason | None:
        if raw is None:
            return None
        return _FINISH.get(raw)

    def inband_error(self, err: Any) -> APIStatusError:
        """An ``{"error": ...}`` line. See the module docstring for why it is a server error."""
        info = _dict(err)
        status = _int(info.get("status_code")) or _int(info.get("status")) or _int(info.get("code"))
        etype = info.get("type") if isinstance(info.get("type"), str) else None
        cls = None if status is not None else ServerError
        return api_error(
            self.provider, status, error_text(err), error_type=etype, cls=cls, body=err
        )

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        obj = json_object(body)
        if obj is None:
            return non_json_error(self.provider, status, headers, body)
        info = obj.get("error", obj)
        message = error_text(info) if info else f"HTTP {status}"
        etype = _dict(info).get("type")
        return api_error(
            self.provider,
            status,
            message,
            error_type=etype if isinstance(etype, str) else None,
            headers=headers,
            body=obj,
        )


def _messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}  # tool-call id -> function name, for results without a name
    out = []
    for m in messages:
        if m.role is Role.TOOL:
            item: dict[str, Any] = {"role": "tool", "content": m.content}
            name = m.name or names.get(m.tool_call_id or "")
            if name:
                item["tool_name"] = name
            out.append(item)
            continue
        item = {"role": m.role.value, "content": m.content}
        if m.role is Role.ASSISTANT and m.tool_calls:
            item["tool_calls"] = [_call(c) for c in m.tool_calls]
            names.update((c.id, c.name) for c in m.tool_calls if c.id)
        out.append(item)
    return out


def _call(c: ToolCall) -> dict[str, Any]:
    try:
        args = json.loads(c.arguments or "{}")
    except ValueError:
        args = None
    if not isinstance(args, dict):
        raise ConfigurationError(
            f"tool call {c.name!r}: Ollama needs arguments that are a JSON object"
        )
    out: dict[str, Any] = {"function": {"name": c.name, "arguments": args}}
    if c.id:
        out["id"] = c.id  # newer servers echo ids; older ones ignore unknown fields
    return out
