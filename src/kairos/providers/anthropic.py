"""The Anthropic Messages codec.

Wire facts (Anthropic API reference, "Messages" / "Streaming Messages" / "Errors"):
``POST {base}/v1/messages`` with ``x-api-key`` and ``anthropic-version`` headers; ``max_tokens``
is required; the system prompt is a top-level ``system`` field; tool calls are ``tool_use``
content blocks and their answers ``tool_result`` blocks in a user turn. With ``stream: true``
the body is SSE with named events: ``message_start`` (model, input usage), then per content
block ``content_block_start`` / ``content_block_delta`` (``text_delta``, ``input_json_delta``,
``thinking_delta``, ``signature_delta``, ``citations_delta``) / ``content_block_stop``, then
``message_delta`` (``stop_reason`` and cumulative usage) and ``message_stop``. ``ping`` events
keep the connection alive and ``error`` events carry ``{"type": "error", "error": {"type",
"message"}}`` under an HTTP 200. HTTP errors use the same body and a ``request-id`` header.
Server tools (``server_tool_use``, ``web_search_tool_result``...) run on Anthropic's side: they
are not tool calls for the caller and are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .._codec import Delta, HTTPRequest, ToolDelta, api_error, dumps, loads
from ..errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from ..llm import ChatRequest, FinishReason, Usage
from ._anthropic_request import request_body
from ._base import CodecConfig, error_text, json_object, non_json_error

__all__ = ["AnthropicCodec"]

API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # the API requires max_tokens; every current model allows this much

_FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}

# error.type values from the "Errors" page of the API reference
_BY_TYPE: dict[str, type[APIStatusError]] = {
    "invalid_request_error": BadRequestError,
    "request_too_large": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "billing_error": PermissionDeniedError,
    "not_found_error": NotFoundError,
    "rate_limit_error": RateLimitError,
    "api_error": ServerError,
    "timeout_error": ServerError,
    "overloaded_error": OverloadedError,
}

_REQUEST_ID = "request-id"


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


class _Usage:
    """Usage counts seen so far. ``message_start`` has the input side, ``message_delta`` the
    cumulative output count (and, on newer servers, the input counts again)."""

    __slots__ = ("cache_creation", "cache_read", "input", "output", "thinking")

    def __init__(self) -> None:
        self.input = self.output = self.cache_read = self.cache_creation = 0
        self.thinking: int | None = None

    def update(self, u: Any) -> Usage | None:
        if not isinstance(u, dict):
            return None
        for attr, key in (
            ("input", "input_tokens"),
            ("output", "output_tokens"),
            ("cache_read", "cache_read_input_tokens"),
            ("cache_creation", "cache_creation_input_tokens"),
        ):
            value = _int(u.get(key))
            if value is not None:
                setattr(self, attr, value)
        details = u.get("output_tokens_details")
        if isinstance(details, dict) and _int(details.get("thinking_tokens")) is not None:
            self.thinking = details["thinking_tokens"]
        return self.build()

    def build(self) -> Usage:
        # Anthropic's input_tokens excludes cached tokens; kairos' prompt_tokens counts every
        # prompt token (as Chat Completions does), with the cache reads also in cached_tokens.
        prompt = self.input + self.cache_read + self.cache_creation
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=self.output,
            total_tokens=prompt + self.output,
            cached_tokens=self.cache_read,
            reasoning_tokens=self.thinking,
        )


@dataclass(slots=True)
class _ToolBlock:
    pos: int  # position among the message's tool calls (not the content-block index)
    name: str
    input: Any  # the input object given at block start
    parts: list[str] = field(default_factory=list)


class _Parser:
    def __init__(self, codec: AnthropicCodec) -> None:
        self._codec = codec
        self._usage = _Usage()
        self._tools: dict[int, _ToolBlock] = {}  # open tool_use blocks by content-block index
        self._calls = 0
        self._invalid: str | None = None  # a closed tool block whose input is not JSON
        self._finish: str | None = None
        self.complete = False

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        obj = loads(data, self._codec.provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        kind = obj.get("type")
        if kind.__class__ is not str:
            kind = event
        if kind == "content_block_delta" and event != "error":  # hot: one text piece
            delta = obj.get("delta")
            if delta.__class__ is dict and delta.get("type") == "text_delta":
                text = delta.get("text")
                if text.__class__ is str:
                    return Delta(text) if text else None
            return self._block_delta(obj)
        if kind == "error" or event == "error":
            return Delta(error=self._codec.inband_error(obj))
        if kind == "content_block_delta":
            return self._block_delta(obj)
        if kind == "content_block_start":
            return self._block_start(obj)
        if kind == "content_block_stop":
            return self._block_stop(obj)
        if kind == "message_start":
            msg = _dict(obj.get("message"))
            model = msg.get("model")
            return Delta(
                usage=self._usage.update(msg.get("usage")),
                model=model if isinstance(model, str) else None,
            )
        if kind == "message_delta":
            return self._message_delta(obj)
        if kind == "message_stop":
            self._check_tools(self._finish)
            self.complete = True
            return Delta(end=True)
        return None  # ping and event types added after this codec was written

    def _block_start(self, obj: dict[str, Any]) -> Delta | None:
        index, block = obj.get("index"), obj.get("content_block")
        if not isinstance(block, dict) or not isinstance(index, int):
            return None
        kind = str(block.get("type"))
        if kind == "text" and block.get("text"):
            return Delta(content=str(block["text"]))
        if kind == "thinking" and block.get("thinking"):
            return Delta(reasoning=str(block["thinking"]))
        if kind != "tool_use":
            return None
        tool = _ToolBlock(self._calls, str(block.get("name") or ""), block.get("input"))
        self._calls += 1
        self._tools[index] = tool
        return Delta(tools=[ToolDelta(tool.pos, str(block.get("id") or ""), tool.name)])

    def _block_delta(self, obj: dict[str, Any]) -> Delta | None:
        delta = obj.get("delta")
        if not isinstance(delta, dict):
            return None
        kind = delta.get("type")
        if kind == "text_delta":
            text = delta.get("text")
            return Delta(content=text) if isinstance(text, str) and text else None
        if kind == "thinking_delta":
            text = delta.get("thinking")
            return Delta(reasoning=text) if isinstance(text, str) and text else None
        if kind == "input_json_delta":
            index = _int(obj.get("index"))  # the index may be any JSON value, even a list
            tool = None if index is None else self._tools.get(index)
            piece = delta.get("partial_json")
            if tool is None or not isinstance(piece, str) or not piece:
                return None  # server-tool input, or an empty first fragment
            tool.parts.append(piece)
            return Delta(tools=[ToolDelta(tool.pos, None, None, piece)])
        return None  # signature_delta, citations_delta and newer delta types

    def _block_stop(self, obj: dict[str, Any]) -> Delta | None:
        index = _int(obj.get("index"))
        tool = None if index is None else self._tools.pop(index, None)
        if tool is None:
            return None
        if not tool.parts:
            # no fragments: the input given at block start (non-empty only in odd servers)
            if isinstance(tool.input, dict) and tool.input:
                return Delta(tools=[ToolDelta(tool.pos, None, None, dumps(tool.input).decode())])
            return None  # the accumulator reports a call without input as "{}"
        # the JSON is joined and checked once, when the block is complete
        try:
            valid = isinstance(json.loads("".join(tool.parts)), dict)
        except (ValueError, RecursionError):
            valid = False
        if not valid and self._invalid is None:
            self._invalid = tool.name
        return None

    def _message_delta(self, obj: dict[str, Any]) -> Delta:
        delta = _dict(obj.get("delta"))
        stop = delta.get("stop_reason")
        finish = stop if isinstance(stop, str) else None
        if finish:
            self._check_tools(finish)
            self._finish = finish
            self.complete = True  # a body ending right after this is not truncated
        return Delta(usage=self._usage.update(obj.get("usage")), finish=finish)

    def _check_tools(self, finish: str | None) -> None:
        """Tool input that is not a JSON object is a protocol error, unless the answer was cut
        by max_tokens: then the text received so far is kept as the call's arguments."""
        if self._invalid is not None and finish != "max_tokens":
            raise ProtocolError(f"tool call {self._invalid!r} ended with invalid JSON input")


class AnthropicCodec:
    framing: Literal["sse"] = "sse"

    def __init__(self, config: CodecConfig) -> None:
        self.config = config
        self.provider = config.provider
        self.base_url = config.base_url.rstrip("/")
        self.default_max_tokens = int(config.options.get("max_tokens", DEFAULT_MAX_TOKENS))

    def __repr__(self) -> str:
        return f"AnthropicCodec(provider={self.provider!r}, base_url={self.base_url!r})"

    # -- requests --------------------------------------------------------------------------
    def build_request(self, req: ChatRequest) -> HTTPRequest:
        max_tokens = req.max_tokens if req.max_tokens is not None else self.default_max_tokens
        body = request_body(req, req.model or self.config.default_model, max_tokens)
        body["stream"] = True
        body.update(req.extras)
        headers = {
            "content-type": "application/json",
            "accept": "text/event-stream",
            "anthropic-version": API_VERSION,
        }
        if self.config.api_key:
            headers["x-api-key"] = self.config.api_key
        headers.update(self.config.headers)
        return HTTPRequest(
            "POST", f"{self.base_url}/v1/messages", headers, dumps(body), self.config.secrets
        )

    def fallback_request(self, request: HTTPRequest, err: Exception) -> HTTPRequest | None:
        return None

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> _Parser:
        return _Parser(self)

    def parse_body(self, body: bytes) -> list[Delta]:
        """A non-stream Messages answer: ``{"type": "message", "content": [blocks], ...}``."""
        obj = json_object(body)
        if obj is None:
            raise ProtocolError("the server answered the stream request with invalid JSON")
        if obj.get("type") == "error" or "error" in obj:
            return [Delta(error=self.inband_error(obj))]
        blocks = obj.get("content")
        if not isinstance(blocks, list):
            raise ProtocolError("the server answered the stream request with JSON but no content")
        out: list[Delta] = []
        calls = 0
        for block in blocks:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind == "text" and block.get("text"):
                out.append(Delta(content=str(block["text"])))
            elif kind == "thinking" and block.get("thinking"):
                out.append(Delta(reasoning=str(block["thinking"])))
            elif kind == "tool_use":
                args = block.get("input")
                text = dumps(args).decode() if isinstance(args, dict) and args else ""
                name = str(block.get("name") or "")
                out.append(Delta(tools=[ToolDelta(calls, str(block.get("id") or ""), name, text)]))
                calls += 1
        stop = obj.get("stop_reason")
        model = obj.get("model")
        out.append(
            Delta(
                usage=_Usage().update(obj.get("usage")),
                finish=stop if isinstance(stop, str) else None,
                model=model if isinstance(model, str) else None,
            )
        )
        return out

    def normalise_finish(self, raw: str | None) -> FinishReason | None:
        if raw is None:
            return None
        return _FINISH.get(raw, "stop")

    def inband_error(
        self, obj: Any, status: int | None = None, headers: Mapping[str, str] | None = None
    ) -> APIStatusError:
        """The typed error for an ``{"type": "error", "error": {...}}`` event or body: the
        class comes from ``error.type`` (the status only when the type is unknown)."""
        info = obj.get("error", obj) if isinstance(obj, dict) else obj
        info = info if isinstance(info, dict) else {"message": info}
        etype = info.get("type") if isinstance(info.get("type"), str) else None
        err = api_error(
            self.provider,
            status,
            error_text(info) if info else "",
            error_type=etype,
            cls=_BY_TYPE.get(etype or ""),
            headers=headers,
            body=obj,
            request_id_header=_REQUEST_ID,
        )
        if err.request_id is None and isinstance(_dict(obj).get("request_id"), str):
            err.request_id = obj["request_id"]
        return err

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        obj = json_object(body)
        if obj is None:
            return non_json_error(
                self.provider, status, headers, body, request_id_header=_REQUEST_ID
            )
        return self.inband_error(obj, status, headers)
