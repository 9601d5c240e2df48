"""The script model: what a scripted reply says, piece by piece. Pure data, no I/O.

A :class:`Reply` is a sequence of pieces (:class:`Text`, :class:`Reasoning`,
:class:`Redacted`, :class:`Refusal`, :class:`Cite`, :class:`Call`, :class:`Pause`,
:class:`Fail`) plus optional usage, finish reason, model and a delay between chunks. The
renderers (``_render``) turn one into the exact bytes a provider's API would send, each piece in
its wire's real shape (a wire without the concept renders nothing for it, as its API would).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

from .errors import ConfigurationError
from .llm import Usage

__all__ = [
    "FAIL_KINDS",
    "Call",
    "Cite",
    "Fail",
    "Pause",
    "Piece",
    "Reasoning",
    "Redacted",
    "Refusal",
    "Reply",
    "Text",
    "estimate_tokens",
    "load_replies",
    "reply_from_dict",
]

FAIL_KINDS = (
    "overloaded",
    "rate_limit",
    "server",
    "invalid_request",
    "authentication",
    "context_length",
)


@dataclass(frozen=True, slots=True)
class Text:
    """A piece of the answer's content."""

    text: str


@dataclass(frozen=True, slots=True)
class Reasoning:
    """A piece of the model's reasoning (thinking) text. Consecutive pieces form one reasoning
    block; ``signature`` ends the block with that signature (Anthropic ``signature_delta``, a
    Gemini thought part's ``thoughtSignature``). Without one, wires that sign reasoning get a
    signature the strict emulator can check (a digest of the block's text)."""

    text: str
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class Redacted:
    """A reasoning block of opaque data only (Anthropic ``redacted_thinking``)."""

    data: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """The model declines: OpenAI ``refusal`` pieces; elsewhere the wire's refusal stop reason
    (Anthropic ``refusal``, Gemini ``SAFETY``; Ollama has none and sends the text)."""

    text: str


@dataclass(frozen=True, slots=True)
class Cite:
    """A source for the text that follows (up to the next non-text piece): Anthropic
    ``citations_delta``, OpenAI ``url_citation`` annotations, Gemini grounding metadata."""

    url: str
    title: str | None = None
    text: str | None = None  # the cited source text


@dataclass(frozen=True, slots=True)
class Call:
    """A tool call. ``arguments`` is a mapping or JSON text; ``id`` is generated if None."""

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        """The arguments as compact JSON text (a string is returned as given)."""
        if isinstance(self.arguments, str):
            return self.arguments
        return json.dumps(dict(self.arguments), ensure_ascii=False, separators=(",", ":"))

    def arguments_object(self) -> dict[str, Any]:
        """The arguments as a dict (wires that send objects: Gemini, Ollama, Anthropic)."""
        if not isinstance(self.arguments, str):
            return dict(self.arguments)
        try:
            value = json.loads(self.arguments or "{}")
        except ValueError:
            value = None
        if not isinstance(value, dict):
            raise ConfigurationError(f"tool call {self.name!r}: arguments are not a JSON object")
        return value


@dataclass(frozen=True, slots=True)
class Pause:
    """Wait this many seconds before the next piece of the body. Pauses at the start of a
    reply come before its first byte (a slow first token)."""

    seconds: float

    def __post_init__(self) -> None:
        if not self.seconds >= 0:
            raise ConfigurationError(f"a pause must be >= 0 seconds, got {self.seconds!r}")


@dataclass(frozen=True, slots=True)
class Fail:
    """An in-band error at this point of the stream (HTTP 200, then the wire's error event).
    ``kind`` is one of ``FAIL_KINDS``; pieces after a ``Fail`` are never sent."""

    kind: str = "server"
    message: str = "scripted failure"

    def __post_init__(self) -> None:
        if self.kind not in FAIL_KINDS:
            raise ConfigurationError(
                f"unknown failure kind {self.kind!r}; known: {', '.join(FAIL_KINDS)}"
            )


Piece = Union[Text, Reasoning, Redacted, Refusal, Cite, Call, Pause, Fail]  # noqa: UP007
PIECES = (Text, Reasoning, Redacted, Refusal, Cite, Call, Pause, Fail)


def estimate_tokens(text: str) -> int:
    """A rough token count: about one per word (at least one for non-empty text)."""
    words = len(text.split())
    return max(words, 1) if text.strip() else 0


def _split(text: str, chunk_size: int | None) -> list[str]:
    if chunk_size is not None:
        if chunk_size < 1:
            raise ConfigurationError(f"chunk_size must be >= 1, got {chunk_size}")
        return [text[i : i + chunk_size] for i in range(0, len(text), chunk_size)]
    words = text.split(" ")  # words with their leading space, as a tokenizer would cut
    return [w if i == 0 else " " + w for i, w in enumerate(words)]


@dataclass(frozen=True, slots=True)
class Reply:
    """One scripted answer. ``usage=None``: a plausible usage is computed; ``finish_reason=None``:
    ``"tool_calls"`` if there are calls, else ``"stop"``. ``chunk_delay`` is slept between chunks.
    ``finish_reason`` uses kairos' names (``stop``, ``length``, ``tool_calls``,
    ``content_filter``); any other value is sent to the wire as is."""

    pieces: Sequence[Piece] = ()
    usage: Usage | None = None
    finish_reason: str | None = None
    model: str | None = None
    chunk_delay: float = 0.0

    def __post_init__(self) -> None:
        for piece in self.pieces:
            if not isinstance(piece, PIECES):
                raise ConfigurationError(f"not a script piece: {piece!r}")
        if not self.chunk_delay >= 0:
            raise ConfigurationError(f"chunk_delay must be >= 0, got {self.chunk_delay!r}")
        object.__setattr__(self, "pieces", tuple(self.pieces))

    @classmethod
    def text(
        cls,
        text: str,
        *,
        chunk_size: int | None = None,
        reasoning: str = "",
        calls: Sequence[Call] = (),
        usage: Usage | None = None,
        finish_reason: str | None = None,
        model: str | None = None,
        chunk_delay: float = 0.0,
    ) -> Reply:
        """A reply streaming ``text`` in pieces: words (default) or ``chunk_size`` characters.
        ``reasoning`` comes first, ``calls`` last."""
        pieces: list[Piece] = [Reasoning(p) for p in _split(reasoning, chunk_size) if p]
        pieces += [Text(p) for p in _split(text, chunk_size) if p]
        pieces += list(calls)
        return cls(pieces, usage, finish_reason, model, chunk_delay)

    @property
    def content(self) -> str:
        """The content text this reply streams (up to a ``Fail``)."""
        return "".join(p.text for p in self._sent() if isinstance(p, Text))

    @property
    def reasoning(self) -> str:
        return "".join(p.text for p in self._sent() if isinstance(p, Reasoning))

    @property
    def calls(self) -> tuple[Call, ...]:
        return tuple(p for p in self._sent() if isinstance(p, Call))

    @property
    def refusal(self) -> str:
        return "".join(p.text for p in self._sent() if isinstance(p, Refusal))

    @property
    def failure(self) -> Fail | None:
        return next((p for p in self.pieces if isinstance(p, Fail)), None)

    def _sent(self) -> list[Piece]:
        out: list[Piece] = []
        for piece in self.pieces:
            if isinstance(piece, Fail):
                break
            out.append(piece)
        return out

    def resolved_finish(self) -> str:
        if self.finish_reason is not None:
            return self.finish_reason
        if self.refusal:
            return "content_filter"
        return "tool_calls" if self.calls else "stop"

    def resolved_usage(self, prompt_tokens: int | None = None) -> Usage:
        """``usage`` if given, else an estimate: completion is about one token per word."""
        if self.usage is not None:
            return self.usage
        prompt = 10 if prompt_tokens is None else prompt_tokens
        reasoning = estimate_tokens(self.reasoning)
        completion = estimate_tokens(self.content) + reasoning
        completion += sum(estimate_tokens(c.arguments_json()) + 2 for c in self.calls)
        completion = max(completion, 1)
        return Usage(
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            reasoning_tokens=reasoning or None,
        )


# -- script files ---------------------------------------------------------------------------
_REPLY_KEYS = frozenset(
    (
        *("text", "reasoning", "tool_calls", "usage", "finish_reason", "model"),
        *("chunk_delay", "pieces", "fail", "chunk_size", "refusal", "citations", "signature"),
    )
)
_PIECE_KEYS = "text/reasoning/redacted/refusal/cite/pause/call/fail"
_USAGE_KEYS = ("prompt_tokens", "completion_tokens", "total_tokens")
_USAGE_OPTIONAL = ("cached_tokens", "reasoning_tokens")


def _bad(message: str) -> ConfigurationError:
    return ConfigurationError(f"script: {message}")


def _call(d: Any) -> Call:
    if not isinstance(d, Mapping) or not isinstance(d.get("name"), str):
        raise _bad(f"a tool call needs a string 'name', got {d!r}"[:200])
    unknown = set(d) - {"name", "arguments", "id"}
    if unknown:
        raise _bad(f"unknown tool call key(s) {sorted(unknown)}")
    args = d.get("arguments", {})
    if not isinstance(args, Mapping | str):
        raise _bad(f"tool call {d['name']!r}: 'arguments' must be an object or JSON text")
    call_id = d.get("id")
    if call_id is not None and not isinstance(call_id, str):
        raise _bad(f"tool call {d['name']!r}: 'id' must be a string")
    return Call(d["name"], dict(args) if isinstance(args, Mapping) else args, call_id)


def _fail(v: Any) -> Fail:
    if isinstance(v, str):
        return Fail(v)
    if isinstance(v, Mapping) and set(v) <= {"kind", "message"}:
        return Fail(str(v.get("kind", "server")), str(v.get("message", "scripted failure")))
    raise _bad(f"'fail' must be a kind or {{kind, message}}, got {v!r}"[:200])


def _number(v: Any, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, int | float) or v < 0:
        raise _bad(f"{what} must be a number >= 0, got {v!r}")
    return float(v)


def _cite(d: Any) -> Cite:
    if (
        not isinstance(d, Mapping)
        or not isinstance(d.get("url"), str)
        or set(d)
        - {
            "url",
            "title",
            "text",
        }
    ):
        raise _bad(f"a citation is {{url, title?, text?}}, got {d!r}"[:200])
    title, text = d.get("title"), d.get("text")
    if not all(v is None or isinstance(v, str) for v in (title, text)):
        raise _bad("a citation's title and text must be strings")
    return Cite(d["url"], title, text)


def _reasoning(value: Any) -> Reasoning:
    if isinstance(value, str):
        return Reasoning(value)
    if isinstance(value, Mapping) and isinstance(value.get("text"), str):
        sig = value.get("signature")
        if set(value) <= {"text", "signature"} and (sig is None or isinstance(sig, str)):
            return Reasoning(value["text"], sig)
    raise _bad(f"reasoning is text or {{text, signature}}, got {value!r}"[:200])


def _piece(d: Any) -> Piece:
    if not isinstance(d, Mapping) or len(d) != 1:
        raise _bad(f"a piece is one of {_PIECE_KEYS}, got {d!r}"[:200])
    ((key, value),) = d.items()
    if key == "text" and isinstance(value, str):
        return Text(value)
    if key == "redacted" and isinstance(value, str):
        return Redacted(value)
    if key == "refusal" and isinstance(value, str):
        return Refusal(value)
    makers: dict[str, Any] = {
        "reasoning": _reasoning,
        "cite": _cite,
        "call": _call,
        "fail": _fail,
        "pause": lambda v: Pause(_number(v, "pause")),
    }
    if key in makers:
        return makers[key](value)  # type: ignore[no-any-return]
    raise _bad(f"a piece is one of {_PIECE_KEYS}, got {d!r}"[:200])


def _usage(d: Any) -> Usage:
    if not isinstance(d, Mapping) or not set(d) <= set(_USAGE_KEYS + _USAGE_OPTIONAL):
        raise _bad(f"'usage' takes {', '.join(_USAGE_KEYS + _USAGE_OPTIONAL)}, got {d!r}"[:200])
    values: dict[str, Any] = {}
    for key, value in d.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise _bad(f"usage {key} must be an integer, got {value!r}")
        values[key] = value
    prompt, completion = values.get("prompt_tokens") or 0, values.get("completion_tokens") or 0
    values["total_tokens"] = values.get("total_tokens") or prompt + completion
    values["prompt_tokens"], values["completion_tokens"] = prompt, completion
    return Usage(**values)


def reply_from_dict(d: Mapping[str, Any] | str) -> Reply:
    """A :class:`Reply` from a script-file entry (see the ``kairos.testing`` docs for the
    schema). A bare string is a text reply. Bad input raises :class:`kairos.ConfigurationError`."""
    if isinstance(d, str):
        return Reply.text(d)
    if not isinstance(d, Mapping):
        raise _bad(f"a reply is an object or a string, got {type(d).__name__}")
    unknown = set(d) - _REPLY_KEYS
    if unknown:
        known = ", ".join(sorted(_REPLY_KEYS))
        raise _bad(f"unknown reply key(s) {sorted(unknown)}; known: {known}")
    for key in ("text", "reasoning", "finish_reason", "model", "refusal", "signature"):
        if d.get(key) is not None and not isinstance(d[key], str):
            raise _bad(f"{key!r} must be a string")
    size = d.get("chunk_size")
    if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
        raise _bad(f"'chunk_size' must be an integer >= 1, got {size!r}")
    calls = d.get("tool_calls") or []
    raw_pieces = d.get("pieces") or []
    cites = d.get("citations") or []
    if not all(isinstance(v, list) for v in (calls, raw_pieces, cites)):
        raise _bad("'tool_calls', 'pieces' and 'citations' must be lists")
    pieces = _head(d, size, [_cite(c) for c in cites])
    pieces += [*(_call(c) for c in calls), *(_piece(p) for p in raw_pieces)]
    if d.get("fail") is not None:
        pieces.append(_fail(d["fail"]))
    return Reply(
        pieces,
        usage=_usage(d["usage"]) if d.get("usage") is not None else None,
        finish_reason=d.get("finish_reason"),
        model=d.get("model"),
        chunk_delay=_number(d.get("chunk_delay", 0.0), "chunk_delay"),
    )


def _head(d: Mapping[str, Any], size: int | None, cites: list[Cite]) -> list[Piece]:
    """The reasoning (signed when ``signature`` is given), citations, text and refusal of a
    script entry, in that order."""
    reasoning = [Reasoning(p) for p in _split(d.get("reasoning") or "", size) if p]
    if reasoning and d.get("signature"):
        reasoning[-1] = Reasoning(reasoning[-1].text, d["signature"])
    text = [Text(p) for p in _split(d.get("text") or "", size) if p]
    refusal = [Refusal(p) for p in _split(d.get("refusal") or "", size) if p]
    return [*reasoning, *cites, *text, *refusal]


def load_replies(path: str | Path) -> list[Reply]:
    """Replies from a JSON or YAML file: a list of replies, or ``{"replies": [...]}``.
    YAML needs PyYAML (``pip install 'kairos-llm[serve]'``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigurationError(f"script: cannot read {p}: {exc.strerror or exc}") from exc
    if p.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError as exc:
            raise ConfigurationError(
                "script: reading YAML needs PyYAML (pip install 'kairos-llm[serve]')"
            ) from exc
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigurationError(f"script: {p} is not valid YAML") from exc
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigurationError(f"script: {p} is not valid JSON ({exc})") from exc
    if isinstance(data, Mapping):
        data = data.get("replies")
    if not isinstance(data, list):
        raise ConfigurationError(f"script: {p} must hold a list of replies (or 'replies:')")
    return [reply_from_dict(r) for r in data]
