"""The Chat Completions codec: OpenAI, Qwen (DashScope compatible mode) and any compatible server.

Wire facts (OpenAI API reference, "Chat Completions" / "streaming"):
``POST {base}/chat/completions`` with ``stream: true`` answers SSE ``data:`` lines holding
``chat.completion.chunk`` objects and ends with ``data: [DONE]``. With
``stream_options.include_usage`` the last chunk before ``[DONE]`` has empty ``choices`` and the
``usage``. Tool-call pieces carry ``index`` (the
position of the call) and, in their first piece, ``id`` and ``function.name``. Reasoning models
served by DeepSeek, Qwen and vLLM send ``reasoning_content``; OpenRouter and Groq send
``reasoning``. Errors inside the stream arrive as ``{"error": {...}}`` objects (OpenRouter,
Groq's ``event: error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from .._codec import Delta, HTTPRequest, ToolDelta, api_error, dumps, loads
from ..errors import (
    APIStatusError,
    BadRequestError,
    ContextLengthError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from ..llm import ChatRequest, FinishReason, Message, Role, Usage
from ._base import CodecConfig, error_text, json_object, non_json_error

__all__ = ["OpenAICompatCodec"]

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}

# structured error codes / types that say more than the HTTP status
_BY_CODE: dict[str, type[APIStatusError]] = {
    "context_length_exceeded": ContextLengthError,
    "rate_limit_exceeded": RateLimitError,
    "rate_limit_error": RateLimitError,
    "insufficient_quota": PermissionDeniedError,
    "overloaded_error": OverloadedError,
    "server_error": ServerError,
}


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _usage(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    prompt = _int(u.get("prompt_tokens")) or 0
    completion = _int(u.get("completion_tokens")) or 0
    pd = _dict(u.get("prompt_tokens_details"))
    cd = _dict(u.get("completion_tokens_details"))
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        total_tokens=_int(u.get("total_tokens")) or prompt + completion,
        cached_tokens=_int(pd.get("cached_tokens")),
        reasoning_tokens=_int(cd.get("reasoning_tokens")),
    )


def _tools(raw: Any) -> list[ToolDelta] | None:
    """Tool-call pieces; fields of the wrong type are treated as absent."""
    if not isinstance(raw, list):
        return None
    out = []
    for tc in raw:
        if not isinstance(tc, dict):
            continue
        fn = _dict(tc.get("function"))
        args = fn.get("arguments")
        text = args if isinstance(args, str) else dumps(args).decode() if args else ""
        out.append(ToolDelta(_int(tc.get("index")), _str(tc.get("id")), _str(fn.get("name")), text))
    return out or None


class _Parser:
    __slots__ = ("_codec", "complete")

    def __init__(self, codec: OpenAICompatCodec) -> None:
        self._codec = codec
        self.complete = False

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        if data == "[DONE]" or (len(data) < 12 and data.strip() == "[DONE]"):
            self.complete = True
            return Delta(end=True)
        obj = loads(data, self._codec.provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        if obj.get("error") or event == "error":
            return Delta(error=self._codec.inband_error(obj.get("error", obj)))
        # the hot path (once per chunk): the type checks of _str/_dict/_usage written inline
        choices = obj.get("choices")
        raw_usage = obj.get("usage")
        usage = None if raw_usage is None else _usage(raw_usage)
        choice = choices[0] if choices.__class__ is list and choices else None
        if choice.__class__ is not dict or not choice:
            return Delta(usage=usage) if usage else None
        delta = choice.get("delta")
        if delta.__class__ is not dict or not delta:
            delta = _dict(choice.get("message"))
        finish = choice.get("finish_reason")
        if finish.__class__ is not str or not finish:
            finish = None
        else:
            self.complete = True
        content = delta.get("content")
        if content.__class__ is not str:
            content = ""
        reasoning: Any = ""
        calls = None
        if len(delta) > 1 or not content:  # anything besides a text piece
            reasoning = delta.get("reasoning_content")
            if reasoning.__class__ is not str or not reasoning:
                reasoning = delta.get("reasoning")
                if reasoning.__class__ is not str:
                    reasoning = ""
            calls = delta.get("tool_calls")
        model = obj.get("model")
        return Delta(
            content,
            reasoning,
            None if calls is None else _tools(calls),
            usage,
            finish,
            model if model.__class__ is str else None,
        )


class OpenAICompatCodec:
    framing: Literal["sse"] = "sse"

    def __init__(self, config: CodecConfig) -> None:
        self.config = config
        self.provider = config.provider
        self.base_url = config.base_url.rstrip("/")
        self.include_usage = bool(config.options.get("include_usage", True))
        self.max_tokens_field = str(config.options.get("max_tokens_field", "max_tokens"))

    def __repr__(self) -> str:
        return f"OpenAICompatCodec(provider={self.provider!r}, base_url={self.base_url!r})"

    # -- requests --------------------------------------------------------------------------
    def build_request(self, req: ChatRequest) -> HTTPRequest:
        body: dict[str, Any] = {
            "model": req.model or self.config.default_model,
            "messages": [_message(m) for m in req.messages],
            "stream": True,
        }
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        if req.tools:
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
        if req.tool_choice is not None:
            body["tool_choice"] = _tool_choice(req.tool_choice)
        for key, value in (
            ("temperature", req.temperature),
            ("top_p", req.top_p),
            (self.max_tokens_field, req.max_tokens),
        ):
            if value is not None:
                body[key] = value
        if req.stop:
            body["stop"] = list(req.stop)
        body.update(req.extras)
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if self.config.api_key:
            headers["authorization"] = f"Bearer {self.config.api_key}"
        headers.update(self.config.headers)
        return HTTPRequest(
            "POST", f"{self.base_url}/chat/completions", headers, dumps(body), self.config.secrets
        )

    def fallback_request(self, request: HTTPRequest, err: Exception) -> HTTPRequest | None:
        """The same request without ``stream_options`` if the server rejected that field
        (servers that do not know it). A new request; the codec keeps no state, so every
        call to such a server tries it once: pass ``options={"include_usage": False}`` to
        never send it."""
        if not (self.include_usage and isinstance(err, BadRequestError)):
            return None
        if err.status not in (400, 422) or not _names_stream_options(err):
            return None
        body = loads(request.body, self.provider)
        if body.pop("stream_options", None) is None:
            return None
        return HTTPRequest(
            request.method, request.url, request.headers, dumps(body), request.secrets
        )

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> _Parser:
        return _Parser(self)

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
        info = err if isinstance(err, dict) else {"message": err}
        status = info.get("status_code") or info.get("status") or info.get("code")
        status = status if isinstance(status, int) else None
        kind = info.get("code") if isinstance(info.get("code"), str) else info.get("type")
        etype = kind if isinstance(kind, str) else None
        cls = _BY_CODE.get(etype or "") or _BY_CODE.get(str(info.get("type")))
        return api_error(
            self.provider, status, error_text(info), error_type=etype, cls=cls, body=err
        )

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        obj = json_object(body)
        if obj is None:
            return non_json_error(self.provider, status, headers, body)
        info = obj.get("error", obj)
        info = info if isinstance(info, dict) else {"message": info}
        code = info.get("code") if isinstance(info.get("code"), str) else None
        etype = code or (info.get("type") if isinstance(info.get("type"), str) else None)
        cls = _BY_CODE.get(code or "") or _BY_CODE.get(str(info.get("type")))
        if cls is RateLimitError and status != 429 and etype == "insufficient_quota":
            cls = PermissionDeniedError
        message = error_text(info) if info else f"HTTP {status}"
        return api_error(
            self.provider, status, message, error_type=etype, cls=cls, headers=headers, body=obj
        )


def _names_stream_options(err: APIStatusError) -> bool:
    body = err.body if isinstance(err.body, dict) else {}
    info = body.get("error", body)
    if isinstance(info, dict) and info.get("param") == "stream_options":
        return True
    detail = body.get("detail")
    if isinstance(detail, list):
        for item in detail:
            if isinstance(item, dict) and "stream_options" in (item.get("loc") or []):
                return True
    # Capability probe, not error classification: servers that reject unknown fields name
    # the field they rejected; the error's type is already decided by its status.
    return "stream_options" in err.message


def _tool_choice(choice: str | Mapping[str, Any]) -> Any:
    if isinstance(choice, str) and choice not in ("auto", "none", "required"):
        return {"type": "function", "function": {"name": choice}}
    return choice if isinstance(choice, str) else dict(choice)


def _message(m: Message) -> dict[str, Any]:
    if m.role is Role.TOOL:
        return {"role": "tool", "tool_call_id": m.tool_call_id or "", "content": m.content}
    out: dict[str, Any] = {"role": m.role.value, "content": m.content}
    if m.role is Role.ASSISTANT and m.tool_calls:
        out["content"] = m.content or None
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in m.tool_calls
        ]
    return out
