"""The Chat Completions codec: OpenAI, Qwen (DashScope compatible mode) and any compatible server.

Ties the pieces of this folder together: ``request`` builds bodies, ``events`` parses the
stream, ``errors`` types HTTP and in-band errors. Pure: no I/O, no state between requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._codec import Delta, HTTPRequest, dumps, loads
from ...errors import APIStatusError, BadRequestError, ProtocolError
from ...llm import ChatRequest, FinishReason
from .._base import BaseCodec, CodecConfig, json_object
from . import errors
from .events import Parser
from .parts import echo_mode
from .request import request_body

__all__ = ["Codec"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


class Codec(BaseCodec):
    wire = "openai-chat"
    framing = "sse"

    def __init__(self, config: CodecConfig) -> None:
        super().__init__(config)
        self.include_usage = bool(config.options.get("include_usage", True))
        self.max_tokens_field = str(config.options.get("max_tokens_field", "max_tokens"))
        # per-preset round-trip and reasoning rules (providers/_presets.py)
        self.reasoning_echo = config.options.get("reasoning_echo", "none")
        self.reasoning_param = str(config.options.get("reasoning_param", "openai"))

    # -- requests --------------------------------------------------------------------------
    def build_request(self, req: ChatRequest) -> HTTPRequest:
        model = req.model or self.config.default_model
        body = request_body(
            req,
            model,
            include_usage=self.include_usage,
            max_tokens_field=self.max_tokens_field,
            provider=self.provider,
            echo=echo_mode(self.reasoning_echo, model),
            reasoning_param=self.reasoning_param,
            json_mode_only=bool(self.config.options.get("json_mode_only", False)),
        )
        body.update(req.extras)
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        headers.update(self.key_headers())
        headers.update(self.config.headers)
        return HTTPRequest(
            "POST", f"{self.base_url}/chat/completions", headers, dumps(body), self.config.secrets
        )

    def fallback_request(self, request: HTTPRequest, err: Exception) -> HTTPRequest | None:
        """The same request without ``stream_options`` if the server rejected that field
        (servers that do not know it). A new request; the codec keeps no state (the provider
        remembers the fallback for its later calls). ``options={"include_usage": False}``
        never sends the field."""
        if not (self.include_usage and isinstance(err, BadRequestError)):
            return None
        if err.status not in (400, 422) or not errors.names_stream_options(err):
            return None
        body = loads(request.body, self.provider)
        if body.pop("stream_options", None) is None:
            return None
        return HTTPRequest(
            request.method, request.url, request.headers, dumps(body), request.secrets
        )

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> Parser:
        return Parser(self.provider)

    def parse_body(self, body: bytes) -> list[Delta]:
        obj = json_object(body)
        if obj is None:
            raise ProtocolError("the server answered the stream request with invalid JSON")
        if obj.get("error"):
            return [Delta(error=self.inband_error(obj["error"]))]
        if not obj.get("choices"):
            raise ProtocolError("the server answered the stream request with JSON but no choices")
        parser = self.new_parser()
        return [d for d in (parser.parse("", dumps(obj).decode()),) if d is not None]

    def normalise_finish(self, raw: str | None) -> FinishReason | None:
        if raw is None:
            return None
        return _FINISH.get(raw, "stop")

    def inband_error(self, err: Any) -> APIStatusError:
        return errors.inband_error(self.provider, err)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        return errors.http_error(self.provider, status, headers, body)
