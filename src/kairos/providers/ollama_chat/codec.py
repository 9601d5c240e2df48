"""The Ollama codec: request building here; ``events`` parses lines, ``errors`` types errors.

Pure: no I/O, no state between requests.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ..._codec import Delta, HTTPRequest, dumps
from ..._output import output_spec
from ...errors import APIStatusError, ConfigurationError, ProtocolError
from ...llm import ChatRequest, FinishReason, Message, Role, ToolCall
from .._base import BaseCodec, json_object, present
from . import errors
from .events import Parser

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
