"""The parts of a message, and the reasoning setting: part of the contract (``kairos.llm``).

Pure data, no I/O except reading a file in ``from_file``. A message holds an ordered sequence of
parts: :class:`TextPart`, :class:`Image`, :class:`Document`, :class:`Audio` (what a user sends),
and in an assistant turn also :class:`ReasoningBlock`, :class:`Refusal`,
:class:`~kairos.ToolCall` and :class:`ProviderPart` (what a model sent, kept so the next turn
can carry it back). See the round-trip rules in :mod:`kairos.llm`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .errors import ConfigurationError

if TYPE_CHECKING:  # imported where used: `import kairos` stays light
    from pathlib import Path

__all__ = [
    "Audio",
    "Citation",
    "Document",
    "Image",
    "ProviderPart",
    "Reasoning",
    "ReasoningBlock",
    "Refusal",
    "TextPart",
]

Effort = Literal["low", "medium", "high"]
_EFFORTS = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class Reasoning:
    """One reasoning setting for every provider (``ChatRequest(reasoning=...)``).

    ``effort`` is mapped per provider (OpenAI ``reasoning_effort``, Anthropic and Gemini a
    thinking budget derived from it, Ollama ``think``, DashScope ``enable_thinking``);
    ``budget_tokens`` overrides the derived budget where a provider takes one; ``summary``
    (``"auto"``, ``"concise"``, ``"detailed"``) is for providers that summarise reasoning.
    A provider without a reasoning setting ignores it (README, "Tool loops with reasoning
    models", lists the mapping)."""

    effort: Effort = "medium"
    budget_tokens: int | None = None
    summary: str | None = None

    def __post_init__(self) -> None:
        if self.effort not in _EFFORTS:
            raise ConfigurationError(
                f"reasoning effort must be one of {', '.join(_EFFORTS)}, got {self.effort!r}"
            )
        budget = self.budget_tokens
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, int)):
            raise ConfigurationError(f"reasoning budget_tokens must be an integer, got {budget!r}")
        if budget is not None and budget < 1:
            raise ConfigurationError(f"reasoning budget_tokens must be >= 1, got {budget}")


@dataclass(frozen=True, slots=True)
class Citation:
    """A source the answer relies on. ``start``/``end``: the span of the answer's text it
    supports (character offsets in ``ChatResponse.content``), where the provider gives one;
    ``cited_text``: the quoted source text, where given. ``provider_data`` keeps the wire's own
    citation object (keyed by wire name) for the wires that need it sent back."""

    url: str | None = None
    title: str | None = None
    cited_text: str | None = None
    start: int | None = None
    end: int | None = None
    provider_data: Mapping[str, Any] | None = field(
        default=None, hash=False, repr=False, compare=False
    )


@dataclass(frozen=True, slots=True)
class TextPart:
    """Text. In an assistant turn it may carry the citations that support it and opaque data
    its wire needs back on the same part (Gemini's ``thoughtSignature``), keyed by wire name."""

    text: str
    citations: tuple[Citation, ...] = ()
    provider_data: Mapping[str, Any] | None = field(default=None, hash=False, repr=False)


@dataclass(frozen=True, slots=True)
class Refusal:
    """The model declined to answer (OpenAI ``refusal``): never content."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningBlock:
    """One block of a model's reasoning, kept to be sent back exactly as received.

    ``text`` is the readable reasoning (or its summary); ``signature`` the provider's proof
    that the block is unmodified (Anthropic ``signature``); ``data`` opaque or encrypted
    content (Anthropic ``redacted_thinking.data``, a Responses item's ``encrypted_content``);
    ``id`` the provider's item id where it has one. ``provider`` and ``wire`` name who made the
    block: a codec writes it back only to the same provider on the same wire (see the
    cross-provider rule in :mod:`kairos.llm`). ``provider_data`` holds anything else the wire
    needs back, keyed by wire name (OpenRouter's ``reasoning_details``, a Gemini signature)."""

    text: str = ""
    signature: str | None = field(default=None, repr=False)
    data: str | None = field(default=None, repr=False)
    id: str | None = None
    provider: str = ""
    wire: str = ""
    provider_data: Mapping[str, Any] | None = field(default=None, hash=False, repr=False)

    @property
    def redacted(self) -> bool:
        """True for a block whose reasoning is only opaque ``data`` (no readable text)."""
        return self.data is not None and not self.text

    def made_by(self, provider: str, wire: str) -> bool:
        return self.provider == provider and self.wire == wire


@dataclass(frozen=True, slots=True)
class ProviderPart:
    """A part of an answer that only the provider that made it understands (a server-side
    tool call and its result, executed code...), kept in order so the next turn can carry it
    back. ``data`` is the wire's own JSON object, as received; other providers never get it."""

    provider: str
    wire: str
    data: Mapping[str, Any] = field(hash=False)

    def made_by(self, provider: str, wire: str) -> bool:
        return self.provider == provider and self.wire == wire


# -- media ----------------------------------------------------------------------------------


def _read(path: str | Path, what: str) -> tuple[bytes, Path]:
    from pathlib import Path

    p = Path(path)
    try:
        return p.read_bytes(), p
    except OSError as exc:
        raise ConfigurationError(f"{what}: cannot read {str(p)!r} ({exc.strerror})") from None


def _check(kind: str, media_type: str, data: bytes | None, url: str | None) -> None:
    if (data is None) == (url is None):
        raise ConfigurationError(f"{kind}: give exactly one of data or url")
    if data is not None and not isinstance(data, bytes | bytearray):
        raise ConfigurationError(f"{kind}: data must be bytes, got {type(data).__name__}")
    if url is not None and not (isinstance(url, str) and "://" in url):
        raise ConfigurationError(f"{kind}: url must be an absolute URL, got {url!r}")
    if not isinstance(media_type, str) or "/" not in media_type:
        raise ConfigurationError(f"{kind}: a media type like 'image/png' is needed")


class _Media:
    """What images, documents and audio share: bytes or a URL, and a media type."""

    __slots__ = ()
    kind = "media"
    media_type: str
    data: bytes | None
    url: str | None

    def base64(self) -> str:
        """The bytes as standard base64 (no ``data:`` prefix)."""
        import base64

        if self.data is None:
            raise ConfigurationError(f"{self.describe()} has no bytes (it is a URL)")
        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        return f"data:{self.media_type};base64,{self.base64()}"

    def describe(self) -> str:
        where = self.url if self.url is not None else f"{len(self.data or b'')} bytes"
        return f"{self.kind} ({self.media_type}, {where})"


def _media_type(data: bytes, name: str | None, given: str | None, kind: str) -> str:
    from ._media import sniff

    found = given or sniff(data, name)
    if found is None:
        what = f"{name!r}" if name else "these bytes"
        raise ConfigurationError(f"{kind}: cannot tell the media type of {what}; pass media_type")
    return found


def _check_family(kind: str, media_type: str, families: tuple[str, ...]) -> None:
    if not media_type.startswith(families):
        raise ConfigurationError(f"{kind}: {media_type!r} is not a {kind} media type")


@dataclass(frozen=True, slots=True)
class Image(_Media):
    """An image, as bytes or a URL (kairos never fetches a URL: the provider does, where it
    can). ``detail`` is OpenAI's ``low``/``high``/``auto``."""

    media_type: str
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    detail: str | None = None
    kind = "image"

    def __post_init__(self) -> None:
        _check("image", self.media_type, self.data, self.url)
        _check_family("image", self.media_type, ("image/",))

    @classmethod
    def from_file(cls, path: str | Path, media_type: str | None = None, **kw: Any) -> Image:
        data, p = _read(path, "image")
        return cls(_media_type(data, p.name, media_type, "image"), data, **kw)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str | None = None, **kw: Any) -> Image:
        return cls(_media_type(data, None, media_type, "image"), bytes(data), **kw)

    @classmethod
    def from_url(cls, url: str, media_type: str | None = None, **kw: Any) -> Image:
        from ._media import from_name

        return cls(media_type or from_name(url) or "image/*", None, url, **kw)


@dataclass(frozen=True, slots=True)
class Document(_Media):
    """A document: PDF or plain text, as bytes or a URL. ``filename`` is sent where the wire
    takes one (OpenAI ``file.filename``)."""

    media_type: str
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    filename: str | None = None
    kind = "document"

    def __post_init__(self) -> None:
        _check("document", self.media_type, self.data, self.url)

    @property
    def is_text(self) -> bool:
        return self.media_type.startswith("text/")

    def text(self) -> str:
        """A plain-text document's text (UTF-8)."""
        try:
            return (self.data or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise ConfigurationError(f"{self.describe()} is not UTF-8 text") from None

    @classmethod
    def from_file(cls, path: str | Path, media_type: str | None = None, **kw: Any) -> Document:
        data, p = _read(path, "document")
        kw.setdefault("filename", p.name)
        return cls(_media_type(data, p.name, media_type, "document"), data, **kw)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str | None = None, **kw: Any) -> Document:
        return cls(_media_type(data, kw.get("filename"), media_type, "document"), bytes(data), **kw)

    @classmethod
    def from_url(cls, url: str, media_type: str | None = None, **kw: Any) -> Document:
        from ._media import from_name

        return cls(media_type or from_name(url) or "application/pdf", None, url, **kw)


@dataclass(frozen=True, slots=True)
class Audio(_Media):
    """A sound clip, as bytes or a URL."""

    media_type: str
    data: bytes | None = field(default=None, repr=False)
    url: str | None = None
    kind = "audio"

    def __post_init__(self) -> None:
        _check("audio", self.media_type, self.data, self.url)
        _check_family("audio", self.media_type, ("audio/",))

    @property
    def format(self) -> str | None:
        """OpenAI's ``input_audio.format``: ``wav`` or ``mp3`` (None for other types)."""
        from ._media import audio_format

        return audio_format(self.media_type)

    @classmethod
    def from_file(cls, path: str | Path, media_type: str | None = None) -> Audio:
        data, p = _read(path, "audio")
        return cls(_media_type(data, p.name, media_type, "audio"), data)

    @classmethod
    def from_bytes(cls, data: bytes, media_type: str | None = None) -> Audio:
        return cls(_media_type(data, None, media_type, "audio"), bytes(data))

    @classmethod
    def from_url(cls, url: str, media_type: str | None = None) -> Audio:
        from ._media import from_name

        return cls(media_type or from_name(url) or "audio/*", None, url)
