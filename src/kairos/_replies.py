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
    "split",
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


def awkward_pieces(text: str) -> list[str]:
    """``text`` cut into pieces of 1, 3, 2, 5, 4 and 7 characters in turn: some cuts fall inside
    strings, escapes and numbers, as real token boundaries do."""
    sizes = (1, 3, 2, 5, 4, 7)
    out, i, n = [], 0, 0
    while i < len(text):
        size = sizes[n % len(sizes)]
        out.append(text[i : i + size])
        i, n = i + size, n + 1
    return out


def estimate_tokens(text: str) -> int:
    """A rough token count: about one per word (at least one for non-empty text)."""
    words = len(text.split())
    return max(words, 1) if text.strip() else 0


def split(text: str, chunk_size: int | None) -> list[str]:
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
        pieces: list[Piece] = [Reasoning(p) for p in split(reasoning, chunk_size) if p]
        pieces += [Text(p) for p in split(text, chunk_size) if p]
        pieces += list(calls)
        return cls(pieces, usage, finish_reason, model, chunk_delay)

    @classmethod
    def object(
        cls,
        value: Any,
        *,
        usage: Usage | None = None,
        model: str | None = None,
        chunk_delay: float = 0.0,
    ) -> Reply:
        """A structured-output answer: ``value`` as JSON text (non-ASCII characters as
        themselves, not ``\\u`` escapes), streamed in pieces of 1, 3, 2, 5, 4 and 7 characters
        in turn (:func:`awkward_pieces`), so cuts fall inside strings, numbers and the escapes
        the value needs, as a model's tokens cut them. On a wire that returns structured
        output through a tool (Anthropic models without native structured output) it is
        rendered as that tool's input."""
        try:
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(f"Reply.object: not JSON ({exc})") from None
        return cls([Text(p) for p in awkward_pieces(text)], usage, None, model, chunk_delay)

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
