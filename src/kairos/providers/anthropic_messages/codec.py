"""The Anthropic Messages codec: ties ``request``, ``events`` and ``errors`` together.

Pure: no I/O, no state between requests.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._codec import Delta, HTTPRequest, dumps
from ...errors import APIStatusError, ProtocolError
from ...llm import ChatRequest, FinishReason
from .._base import BaseCodec, CodecConfig, json_object
from . import errors
from .events import Parser, UsageCounts, body_deltas
from .output import add_output
from .request import request_body

__all__ = ["API_VERSION", "Codec"]

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


class Codec(BaseCodec):
    wire = "anthropic-messages"
    framing = "sse"

    def __init__(self, config: CodecConfig) -> None:
        super().__init__(config)
        self.default_max_tokens = int(config.options.get("max_tokens", DEFAULT_MAX_TOKENS))

    # -- requests --------------------------------------------------------------------------
    def build_request(self, req: ChatRequest) -> HTTPRequest:
        model = req.model or self.config.default_model
        body = request_body(req, model, self.default_max_tokens, self.provider)
        add_output(body, req, model, self.config.options)
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

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> Parser:
        return Parser(self.provider)

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
        parser = self.new_parser()
        out = body_deltas(parser, blocks)
        stop = parser.stop_reason(obj.get("stop_reason"))
        model = obj.get("model")
        out.append(
            Delta(
                usage=UsageCounts().update(obj.get("usage")),
                finish=stop if isinstance(stop, str) else None,
                model=model if isinstance(model, str) else None,
            )
        )
        return out

    def normalise_finish(self, raw: str | None) -> FinishReason | None:
        if raw is None:
            return None
        return _FINISH.get(raw, "stop")

    def inband_error(self, obj: Any) -> APIStatusError:
        return errors.inband_error(self.provider, obj)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        return errors.http_error(self.provider, status, headers, body)
