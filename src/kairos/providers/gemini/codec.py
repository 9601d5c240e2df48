"""The Gemini codec: ties ``request``, ``events`` and ``errors`` together (URL and headers).

Pure: no I/O, no state between requests (thought signatures travel on the calls).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from ..._codec import Delta, HTTPRequest, dumps
from ...errors import APIStatusError, ConfigurationError, IncompleteStreamError, ProtocolError
from ...llm import ChatRequest, FinishReason
from .._base import BaseCodec, CodecConfig
from . import errors
from .events import BLOCKED, Parser
from .request import request_body

__all__ = ["Codec"]

# "STOP" is absent on purpose: Gemini says STOP after function calls too, so the stream core
# decides ("tool_calls" when calls arrived, else "stop"). MALFORMED_FUNCTION_CALL: the model
# tried to call a function and produced an invalid call; the turn failed ("error"), where
# "stop" would let a tool loop end as if the model had answered. Unknown reasons are "stop".
_FINISH: dict[str, FinishReason] = {
    "MAX_TOKENS": "length",
    "MALFORMED_FUNCTION_CALL": "error",
    "UNEXPECTED_TOOL_CALL": "error",
    **dict.fromkeys(
        "SAFETY RECITATION BLOCKLIST PROHIBITED_CONTENT SPII IMAGE_SAFETY "  # noqa: SIM905
        "IMAGE_PROHIBITED_CONTENT IMAGE_RECITATION".split(),
        "content_filter",
    ),
}

_VERSIONED = re.compile(r"/v\d+(?:alpha|beta)?\d*$")


class Codec(BaseCodec):
    wire = "gemini"
    framing = "sse"

    def __init__(self, config: CodecConfig) -> None:
        super().__init__(config)
        # a base URL that already names the API version (".../v1beta") is used as given
        base = self.base_url
        self._api_root = base if _VERSIONED.search(base) else f"{base}/v1beta"

    # -- requests --------------------------------------------------------------------------
    def build_request(self, req: ChatRequest) -> HTTPRequest:
        model = req.model or self.config.default_model
        if not model:
            raise ConfigurationError(f"{self.provider}: a model name is required")
        body = request_body(req, model, self.provider)
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if self.config.api_key:
            headers["x-goog-api-key"] = self.config.api_key
        headers.update(self.config.headers)
        path = model if "/" in model else f"models/{model}"
        url = f"{self._api_root}/{quote(path, safe='/')}:streamGenerateContent?alt=sse"
        return HTTPRequest("POST", url, headers, dumps(body), self.config.secrets)

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> Parser:
        return Parser(self.provider)

    def parse_body(self, body: bytes) -> list[Delta]:
        """A non-stream answer: one ``GenerateContentResponse``, or the JSON array of chunks
        ``streamGenerateContent`` sends without ``alt=sse``."""
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError) as exc:
            raise ProtocolError("the server answered the stream request with invalid JSON") from exc
        chunks = obj if isinstance(obj, list) else [obj]
        parser = self.new_parser()
        out: list[Delta] = []
        for chunk in chunks:
            if not isinstance(chunk, dict):
                raise ProtocolError("the server answered the stream request with unexpected JSON")
            delta = parser.chunk(chunk)
            if delta is not None:
                out.append(delta)
                if delta.error is not None:
                    return out
        if not parser.complete:
            raise IncompleteStreamError("the answer has no finishReason")
        return out

    def normalise_finish(self, raw: str | None) -> FinishReason | None:
        if raw is None or raw == "STOP":
            return None  # the stream core says "tool_calls" if calls arrived, else "stop"
        if raw.startswith(BLOCKED):
            return "content_filter"
        return _FINISH.get(raw, "stop")

    def inband_error(self, err: Any) -> APIStatusError:
        return errors.inband_error(self.provider, err)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        return errors.http_error(self.provider, status, headers, body)
