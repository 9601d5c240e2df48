"""The Gemini codec (Google AI ``streamGenerateContent`` with ``alt=sse``).

Wire facts (Gemini API reference, "Generating content" / "Function calling" / "Thought
signatures" / "Troubleshooting"; ``google.rpc.Status`` for errors):
``POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse`` with the key in the
``x-goog-api-key`` header. The body has ``systemInstruction``, ``contents`` (roles ``user`` and
``model``, each a list of ``parts``), ``tools`` (``functionDeclarations``), ``toolConfig`` and
``generationConfig``. A tool call is a ``functionCall`` part (``name``, ``args`` object, optional
``id``) in a model turn; its answer a ``functionResponse`` part (``name``, ``response`` object,
optional ``id``) in a user turn. The answer is SSE ``data:`` lines (CRLF framed), each a whole
``GenerateContentResponse``: ``candidates[0].content.parts`` (``text``, ``thought: true`` text,
``functionCall``, ``executableCode``...), ``finishReason`` on the last candidate chunk,
``usageMetadata`` (cumulative: the last one counts) and ``modelVersion``. There is no end
marker: the body ends after the chunk with a ``finishReason`` (kairos ends the stream at
that chunk when it also carries the ``usageMetadata``, as every recorded stream's last chunk
does). Errors are ``{"error": {"code", "message", "status", "details"}}``, as the HTTP body
or as a data line.

Tool-call ids: ``functionCall.id`` when the wire has one. Otherwise kairos generates
``kcall_<24 hex>`` from the response id, the call's position, name and arguments, so parallel
calls to one function differ, the same bytes always give the same ids (``chat()`` equals the
drained stream), and calls in different responses differ. Generated ids are never sent back to
Gemini (the model never saw them); wire ids are.

Gemini 3 models attach a ``thoughtSignature`` to function-call parts and reject a later request
whose history drops it. The codec keeps no state between requests: the signature travels in the
data, as the call's ``provider_data`` (``{"gemini": {"thoughtSignature": ...}}``), filled when
parsing and put back on the same part when building, so a new provider object sends the same
second turn. For a ``gemini-3`` model whose tool-call turn has no signature it sends the
sentinel Google documents for replayed history (``skip_thought_signature_validator``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

from .._codec import Delta, HTTPRequest, ToolDelta, api_error, dumps, loads
from ..errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    IncompleteStreamError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
)
from ..llm import ChatRequest, FinishReason, Message, Role, ToolCall, Usage
from ._base import CodecConfig, error_text, non_json_error, present
from ._gemini_request import (
    GENERATED_ID_PREFIX,
    declaration,
    merge,
    response_part,
    tool_choice,
)

__all__ = ["GENERATED_ID_PREFIX", "GeminiCodec"]

SKIP_SIGNATURE = "skip_thought_signature_validator"  # the sentinel of the docs cited above
WIRE = "gemini"  # the key of this wire's provider_data
_BLOCKED = "blockReason:"  # raw finish reason of a prompt blocked before any candidate

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

# google.rpc.Code names (the "status" field of Google error bodies); ErrorInfo reasons that
# say more than the status (a bad key is a 400 INVALID_ARGUMENT on Gemini)
_BY_STATUS: dict[str, type[APIStatusError]] = {
    "UNAUTHENTICATED": AuthenticationError,
    "PERMISSION_DENIED": PermissionDeniedError,
    "NOT_FOUND": NotFoundError,
    "RESOURCE_EXHAUSTED": RateLimitError,
    "UNAVAILABLE": OverloadedError,
    **dict.fromkeys(("INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE"), BadRequestError),
    **dict.fromkeys(("ALREADY_EXISTS", "ABORTED"), ConflictError),
    **dict.fromkeys(("INTERNAL", "UNKNOWN", "DEADLINE_EXCEEDED", "DATA_LOSS"), ServerError),
}
_BY_REASON: dict[str, type[APIStatusError]] = dict.fromkeys(
    ("API_KEY_INVALID", "API_KEY_EXPIRED"), AuthenticationError
)
_VERSIONED = re.compile(r"/v\d+(?:alpha|beta)?\d*$")
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)s$")


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _usage(u: Any) -> Usage | None:
    if not isinstance(u, dict):
        return None
    prompt = _int(u.get("promptTokenCount")) or 0
    completion = _int(u.get("candidatesTokenCount")) or 0
    return Usage(
        prompt_tokens=prompt,
        completion_tokens=completion,
        # the total also counts thoughts and tool-use prompt tokens
        total_tokens=_int(u.get("totalTokenCount")) or prompt + completion,
        cached_tokens=_int(u.get("cachedContentTokenCount")),
        reasoning_tokens=_int(u.get("thoughtsTokenCount")),
    )


def _call_id(response_id: str, index: int, name: str, args: str) -> str:
    seed = f"{response_id}|{index}|{name}|{args}"
    return GENERATED_ID_PREFIX + hashlib.sha256(seed.encode()).hexdigest()[:24]


class _Parser:
    """Per-stream state: how many tool calls came so far."""

    __slots__ = ("_calls", "_codec", "_last_usage", "complete")

    def __init__(self, codec: GeminiCodec) -> None:
        self._codec = codec
        self._calls = 0
        self._last_usage: tuple[Any, Usage | None] = (None, None)  # raw usageMetadata, parsed
        self.complete = False

    def parse(self, event: str, data: str | bytes) -> Delta | None:
        obj = loads(data, self._codec.provider)
        if not isinstance(obj, dict):
            raise ProtocolError(f"expected a JSON object in the stream, got {type(obj).__name__}")
        return self.chunk(obj)

    def chunk(self, obj: dict[str, Any]) -> Delta | None:
        if obj.get("error") is not None:
            return Delta(error=self._codec.inband_error(obj["error"]))
        # the hot path (once per chunk): the type checks of _dict written inline
        candidates = obj.get("candidates")
        cand = candidates[0] if candidates.__class__ is list and candidates else None
        if cand.__class__ is not dict:
            cand = {}
        body = cand.get("content")
        parts = body.get("parts") if body.__class__ is dict else None
        part = parts[0] if parts.__class__ is list and len(parts) == 1 else None
        tools: list[ToolDelta] | None = None
        if part.__class__ is dict and "functionCall" not in part:  # hot: one text part
            text = part.get("text")
            content = text if text.__class__ is str else ""
            reasoning = ""
            if part.get("thought") is True:
                content, reasoning = "", content
        else:
            content, reasoning, tools = self._parts(parts if isinstance(parts, list) else [], obj)
        finish = cand.get("finishReason")
        if finish.__class__ is not str or not finish:
            finish = None
        if finish is None and not cand:
            block = _dict(obj.get("promptFeedback")).get("blockReason")
            finish = f"{_BLOCKED}{block}" if isinstance(block, str) and block else None
        if finish is not None:
            self.complete = True
        raw_usage = obj.get("usageMetadata")  # sent with every chunk, usually unchanged
        if raw_usage is None or raw_usage != self._last_usage[0]:
            self._last_usage = (raw_usage, _usage(raw_usage))
        usage = self._last_usage[1]
        model = obj.get("modelVersion")
        if not (content or reasoning or tools or finish or usage or model):
            return None
        # the chunk with the finish reason and the final usage is the last one Gemini sends:
        # end there, so a server keeping the socket open cannot stall a complete answer (and
        # a repeated last chunk is ignored)
        end = finish is not None and usage is not None
        model = model if model.__class__ is str else None
        return Delta(content, reasoning, tools or None, usage, finish, model, None, end)

    def _parts(self, parts: list[Any], obj: dict[str, Any]) -> tuple[str, str, list[ToolDelta]]:
        content: list[str] = []
        reasoning: list[str] = []
        tools: list[ToolDelta] = []
        for part in parts:
            if not isinstance(part, dict):
                continue
            call = part.get("functionCall")
            if isinstance(call, dict):
                tools.append(self._tool(call, part.get("thoughtSignature"), obj))
                continue
            text = part.get("text")
            if isinstance(text, str) and text:
                (reasoning if part.get("thought") is True else content).append(text)
            # executableCode, codeExecutionResult, inlineData, signature-only parts: not text
        return "".join(content), "".join(reasoning), tools

    def _tool(self, call: dict[str, Any], signature: Any, obj: dict[str, Any]) -> ToolDelta:
        name = call.get("name")
        name = name if isinstance(name, str) else ""
        raw_args = call.get("args")
        args = json.dumps(
            raw_args if raw_args is not None else {}, ensure_ascii=False, separators=(",", ":")
        )
        index = self._calls
        self._calls += 1
        wire_id = call.get("id")
        if isinstance(wire_id, str) and wire_id:
            call_id = wire_id
        else:
            response_id = obj.get("responseId")
            call_id = _call_id(str(response_id or ""), index, name, args)
        data = None
        if isinstance(signature, str) and signature:
            data = {WIRE: {"thoughtSignature": signature}}
        return ToolDelta(index, call_id, name, args, data)


class GeminiCodec:
    framing: Literal["sse"] = "sse"

    def __init__(self, config: CodecConfig) -> None:
        self.config = config
        self.provider = config.provider
        base = config.base_url.rstrip("/")
        # a base URL that already names the API version (".../v1beta") is used as given
        self.base_url = base
        self._api_root = base if _VERSIONED.search(base) else f"{base}/v1beta"

    def __repr__(self) -> str:
        return f"GeminiCodec(provider={self.provider!r}, base_url={self.base_url!r})"

    # -- requests --------------------------------------------------------------------------
    def build_request(self, req: ChatRequest) -> HTTPRequest:
        model = req.model or self.config.default_model
        if not model:
            raise ConfigurationError(f"{self.provider}: a model name is required")
        body: dict[str, Any] = {}
        system = [{"text": m.content} for m in req.messages if m.role is Role.SYSTEM]
        if system:
            body["systemInstruction"] = {"parts": system}
        body["contents"] = self._contents(req.messages, model)
        if req.tools:
            body["tools"] = [{"functionDeclarations": [declaration(t) for t in req.tools]}]
        if req.tool_choice is not None:
            body["toolConfig"] = {"functionCallingConfig": tool_choice(req.tool_choice)}
        config = present(
            ("temperature", req.temperature),
            ("topP", req.top_p),
            ("maxOutputTokens", req.max_tokens),
        )
        if req.stop:
            config["stopSequences"] = list(req.stop)
        if config:
            body["generationConfig"] = config
        merge(body, req.extras)
        headers = {"content-type": "application/json", "accept": "text/event-stream"}
        if self.config.api_key:
            headers["x-goog-api-key"] = self.config.api_key
        headers.update(self.config.headers)
        path = model if "/" in model else f"models/{model}"
        url = f"{self._api_root}/{quote(path, safe='/')}:streamGenerateContent?alt=sse"
        return HTTPRequest("POST", url, headers, dumps(body), self.config.secrets)

    def _contents(self, messages: Sequence[Message], model: str) -> list[dict[str, Any]]:
        names: dict[str, str] = {}  # tool-call id -> function name, for results without a name
        out: list[dict[str, Any]] = []
        sentinel = model.removeprefix("models/").startswith("gemini-3")
        for m in messages:
            if m.role is Role.SYSTEM:
                continue
            if m.role is Role.TOOL:
                part = response_part(m, names)
                if out and out[-1].get("_tools"):  # parallel results go in one user turn
                    out[-1]["parts"].append(part)
                else:
                    out.append({"role": "user", "parts": [part], "_tools": True})
                continue
            if m.role is Role.USER:
                out.append({"role": "user", "parts": [{"text": m.content}]})
                continue
            parts: list[dict[str, Any]] = [{"text": m.content}] if m.content else []
            calls = [self._call_part(c) for c in m.tool_calls]
            if sentinel and calls and not any("thoughtSignature" in p for p in calls):
                calls[0]["thoughtSignature"] = SKIP_SIGNATURE
            names.update((c.id, c.name) for c in m.tool_calls if c.id)
            out.append({"role": "model", "parts": parts + calls})
        for item in out:
            item.pop("_tools", None)
        return out

    def _call_part(self, c: ToolCall) -> dict[str, Any]:
        try:
            args = json.loads(c.arguments or "{}")
        except ValueError:
            args = None
        if not isinstance(args, dict):
            raise ConfigurationError(
                f"tool call {c.name!r}: Gemini needs arguments that are a JSON object"
            )
        call: dict[str, Any] = {"name": c.name, "args": args}
        if c.id and not c.id.startswith(GENERATED_ID_PREFIX):
            call["id"] = c.id
        part: dict[str, Any] = {"functionCall": call}
        mine = (c.provider_data or {}).get(WIRE)
        signature = mine.get("thoughtSignature") if isinstance(mine, Mapping) else None
        if isinstance(signature, str) and signature:
            part["thoughtSignature"] = signature
        return part

    def fallback_request(self, request: HTTPRequest, err: Exception) -> HTTPRequest | None:
        return None

    # -- responses -------------------------------------------------------------------------
    def new_parser(self) -> _Parser:
        return _Parser(self)

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
        if raw.startswith(_BLOCKED):
            return "content_filter"
        return _FINISH.get(raw, "stop")

    def inband_error(self, err: Any) -> APIStatusError:
        """An ``{"error": {...}}`` data line: typed by its ``status`` name, else its ``code``."""
        info = _dict(err) or {"message": err}
        return self._error(_int(info.get("code")), info, err, {})

    def parse_error(self, status: int, headers: Mapping[str, str], body: bytes) -> APIStatusError:
        try:
            obj = json.loads(body)
        except (ValueError, RecursionError):
            obj = None
        if isinstance(obj, list) and obj:  # streamGenerateContent without alt=sse
            obj = obj[0]
        if not isinstance(obj, dict):
            return non_json_error(self.provider, status, headers, body)
        info = _dict(obj.get("error")) or obj
        return self._error(status, info, obj, headers)

    def _error(
        self, status: int | None, info: dict[str, Any], body: Any, headers: Mapping[str, str]
    ) -> APIStatusError:
        kind = info.get("status") if isinstance(info.get("status"), str) else None
        raw = info.get("details")  # a list of objects; any other JSON value is ignored
        details = [d for d in raw if isinstance(d, dict)] if isinstance(raw, list) else []
        reasons = [d.get("reason") for d in details if str(d.get("@type")).endswith("ErrorInfo")]
        cls = next((_BY_REASON[r] for r in reasons if isinstance(r, str) and r in _BY_REASON), None)
        cls = cls or _BY_STATUS.get(kind or "")
        message = error_text(info) if info else f"HTTP {status}"
        err = api_error(
            self.provider, status, message, error_type=kind, cls=cls, headers=headers, body=body
        )
        if isinstance(err, RateLimitError | OverloadedError) and err.retry_after is None:
            err.retry_after = _retry_delay(details)
        return err


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    """``google.rpc.RetryInfo.retryDelay`` (a ``"37s"`` duration), in seconds."""
    for d in details:
        if str(d.get("@type")).endswith("RetryInfo"):
            match = _DURATION.match(str(d.get("retryDelay")))
            if match:
                return float(match.group(1))
    return None
