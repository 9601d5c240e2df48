"""The Ollama codec: request building here; ``events`` parses lines, ``errors`` types errors,
``parts`` writes messages.

Pure: no I/O, no state between requests. ``ChatRequest.reasoning`` is ``think: true`` (the
effort and budget are not Ollama settings; ``extras={"think": "high"}`` picks a level on the
models that take one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._codec import Delta, HTTPRequest, dumps
from ..._output import output_spec
from ...errors import APIStatusError, ProtocolError
from ...llm import ChatRequest, FinishReason
from .._base import BaseCodec, function_tools, json_object, present
from . import errors
from .events import Parser
from .parts import messages

__all__ = ["Codec"]

# "stop" is absent on purpose: Ollama says "stop" after tool calls too, so the stream core
# decides ("tool_calls" when calls arrived, else "stop"); same for an absent or unknown reason.
_FINISH: dict[str, FinishReason] = {
    "length": "length",
    "load": "stop",
    "unload": "stop",
}


class Codec(BaseCodec):
    wire = "ollama-chat"
    framing = "ndjson"

    def build_request(self, req: ChatRequest) -> HTTPRequest:
        body: dict[str, Any] = {
            "model": req.model or self.config.default_model,
            "messages": messages(self.provider, req.messages),
            "stream": True,
        }
        if req.reasoning is not None:
            body["think"] = True
        # Ollama has no tool_choice: "none" sends no tools, other choices cannot be expressed
        if req.tools and req.tool_choice != "none":
            body["tools"] = function_tools(req.tools)
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
        spec = output_spec(req.output_schema)
        if spec is not None:
            body["format"] = dict(spec.schema)  # structured outputs: a JSON Schema in "format"
        body.update(extras)  # e.g. {"think": True}, "format", "keep_alive"
        headers = {"content-type": "application/json", "accept": "application/x-ndjson"}
        if self.config.api_key:
            headers["authorization"] = f"Bearer {self.config.api_key}"
        headers.update(self.config.headers)
        return HTTPRequest(
            "POST", f"{self.base_url}/api/chat", headers, dumps(body), self.config.secrets
        )

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> Parser:
        return Parser(self.provider)

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
        return errors.inband_error(self.provider, err)

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        return errors.http_error(self.provider, status, headers, body)
