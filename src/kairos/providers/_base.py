"""What every codec shares: its configuration row and small helpers for error bodies."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from .._codec import HTTPRequest, api_error, dumps
from .._redact import display_url, url_secrets
from ..errors import APIStatusError, ConfigurationError, ProtocolError
from ..llm import Tool, ToolCall

__all__ = [
    "BaseCodec",
    "CodecConfig",
    "answer_object",
    "as_dict",
    "as_int",
    "as_str",
    "call_arguments",
    "error_text",
    "function_tools",
    "json_object",
    "non_json_error",
    "non_json_message",
    "present",
]


@dataclass(frozen=True, slots=True)
class CodecConfig:
    """Everything a codec needs to build requests. ``api_key`` never shows in ``repr``."""

    provider: str
    base_url: str
    default_model: str = ""
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)

    @property
    def secrets(self) -> tuple[str, ...]:
        """What must never show in an error: the key, and what may be credentials in the
        base URL (user info, query values)."""
        return ((self.api_key,) if self.api_key else ()) + url_secrets(self.base_url)


class BaseCodec:
    """What every wire's ``Codec`` shares: its configuration and where it sends, a ``repr``
    without the key, the key's header, and no fallback request unless the wire has one."""

    wire: ClassVar[str]
    framing: ClassVar[Literal["sse", "ndjson"]]

    def __init__(self, config: CodecConfig) -> None:
        self.config = config
        self.provider = config.provider
        self.base_url = config.base_url.rstrip("/")

    def __repr__(self) -> str:
        shown = display_url(self.base_url)
        return f"Codec[{self.wire}](provider={self.provider!r}, base_url={shown!r})"

    def fallback_request(self, request: HTTPRequest, err: Exception) -> HTTPRequest | None:
        return None

    def post_json(self, path: str, body: Any, auth: Mapping[str, str]) -> HTTPRequest:
        """``POST {base_url}{path}`` of a JSON body asking for a stream; the key's headers
        (``auth``), then the configured ones."""
        headers = {"content-type": "application/json", "accept": "text/event-stream", **auth}
        headers.update(self.config.headers)
        url = f"{self.base_url}{path}"
        return HTTPRequest("POST", url, headers, dumps(body), self.config.secrets)

    def key_headers(self) -> dict[str, str]:
        """The API key as a bearer token, or as is in the header a preset's ``auth_header``
        option names (Azure OpenAI's ``api-key``); no header without a key."""
        key = self.config.api_key
        if not key:
            return {}
        header = self.config.options.get("auth_header")
        return {str(header): key} if header else {"authorization": f"Bearer {key}"}


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty dict (a field of the wrong type counts
    as absent)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    """``value`` if it is a JSON integer (not a boolean), else None."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def answer_object(body: bytes) -> dict[str, Any]:
    """The JSON object of a complete non-stream answer, or a :class:`ProtocolError`."""
    obj = json_object(body)
    if obj is None:
        raise ProtocolError("the server answered the stream request with invalid JSON")
    return obj


def json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


_TAGS = re.compile(r"<[^>]*>")


def non_json_message(status: int, headers: Mapping[str, str], body: bytes) -> str:
    """A one-line message for an error body that is not JSON (an HTML proxy page...)."""
    ctype = headers.get("content-type", "unknown content type").split(";")[0]
    text = " ".join(_TAGS.sub(" ", body[:2000].decode("utf-8", "replace")).split())
    snippet = f": {text[:160]}" if text else ""
    return f"HTTP {status} with a non-JSON {ctype} body{snippet}"


def non_json_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes, **kw: Any
) -> APIStatusError:
    """The typed error for an HTTP error whose body is not a JSON object."""
    message = non_json_message(status, headers, body)
    return api_error(provider, status, message, headers=headers, **kw)


def present(*pairs: tuple[str, Any]) -> dict[str, Any]:
    """The pairs whose value is not ``None``, as a dict (optional request fields)."""
    return {key: value for key, value in pairs if value is not None}


def error_text(value: Any, depth: int = 0) -> str:
    """A message from a structured error value (a string, or an object with ``message``).
    Nesting is followed a few levels only: a hostile body may nest hundreds deep."""
    if isinstance(value, str):
        return value
    if depth < 8 and isinstance(value, dict):
        msg = value.get("message") or value.get("msg") or value.get("detail")
        if msg is not None:
            return error_text(msg, depth + 1)
    if depth < 8 and isinstance(value, list) and value:
        return "; ".join(error_text(v, depth + 1) for v in value[:3])
    try:
        return json.dumps(value, ensure_ascii=False)[:300]
    except (RecursionError, ValueError):
        return f"an error {type(value).__name__} nested too deep to show"


def function_tools(tools: Sequence[Tool]) -> list[dict[str, Any]]:
    """``[{"type": "function", "function": {name, description, parameters}}]``: the tools list
    of the OpenAI Chat Completions shape, which Ollama's chat API takes as well."""
    return [
        {
            "type": "function",
            "function": {
                "name": t.name,
                "description": t.description,
                "parameters": dict(t.parameters),
            },
        }
        for t in tools
    ]


def call_arguments(call: ToolCall, provider: str) -> dict[str, Any]:
    """A call's arguments as an object, for wires that send objects (Anthropic ``input``,
    Gemini ``args``, Ollama ``arguments``). A call cut short by ``max_tokens`` holds truncated
    JSON: it is sent as far as it parses, an unfinished string dropped (as the official
    ``anthropic`` SDK sends such a call back); other text is a
    :class:`~kairos.ConfigurationError`."""
    text = call.arguments or "{}"
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        value = _partial(text)
    if not isinstance(value, dict):
        raise ConfigurationError(
            f"{provider}: tool call {call.name!r} needs arguments that are a JSON object"
        )
    return value


def _open_string(text: str) -> int | None:
    """Where the string still open at the end of ``text`` begins (its quote), or None."""
    start: int | None = None
    escaped = False
    for i, ch in enumerate(text):
        if start is None:
            if ch == '"':
                start = i
        elif escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch == '"':
            start = None
    return start


def _partial(text: str) -> Any:
    from .._partial_json import PartialJSON, PartialJSONError

    cut = _open_string(text)
    parser = PartialJSON()
    try:
        parser.feed(text if cut is None else text[:cut])
    except PartialJSONError:
        return None
    return parser.snapshot()
