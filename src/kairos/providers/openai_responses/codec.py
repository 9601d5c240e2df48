"""The Responses codec: OpenAI's ``/v1/responses``, Azure OpenAI's v1 API and compatible servers.

Ties the pieces of this folder together: ``request`` builds bodies, ``events`` parses the
stream (and a non-stream answer, through the same mapping), ``errors`` types HTTP and in-band
errors. Pure: no I/O, no state between requests.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..._codec import Delta, HTTPRequest
from ...errors import APIStatusError, ProtocolError
from ...llm import ChatRequest, FinishReason
from .._base import BaseCodec, answer_object
from . import errors, events
from .request import request_body

__all__ = ["Codec"]


class Codec(BaseCodec):
    wire = "openai-responses"
    framing = "sse"

    def build_request(self, req: ChatRequest) -> HTTPRequest:
        body = request_body(req, req.model or self.config.default_model, self.provider)
        body.update(req.extras)
        return self.post_json("/responses", body, self.key_headers())

    def new_parser(self) -> events.Parser:
        return events.Parser(self.provider)

    def parse_body(self, body: bytes) -> list[Delta]:
        """A whole response object (``stream: false``, or a server that ignored ``stream``)."""
        obj = answer_object(body)
        if "output" not in obj and obj.get("error"):
            return [Delta(error=errors.event_error(self.provider, obj))]
        if not isinstance(obj.get("output"), list):
            raise ProtocolError("the server answered the stream request with JSON but no output")
        if obj.get("status") == "failed":
            return [Delta(error=errors.failed_error(self.provider, obj))]
        return [events.Parser(self.provider).whole(obj)]

    def normalise_finish(self, raw: str | None) -> FinishReason | None:
        return events.normalised(raw)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        return errors.http_error(self.provider, status, headers, body)
