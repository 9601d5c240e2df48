"""kairos: a streaming-first client for LLM providers.

Start with ``kairos.llm`` (the contract) and :func:`provider` / :func:`async_provider`.
"""

from typing import TYPE_CHECKING, Any

from .errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    Cancelled,
    ConfigurationError,
    ConflictError,
    ConnectError,
    ConnectTimeout,
    ContextLengthError,
    DeadlineExceeded,
    FirstChunkTimeout,
    IdleTimeout,
    IncompleteStreamError,
    KairosError,
    NotFoundError,
    OutputError,
    OverloadedError,
    PermissionDeniedError,
    ProtocolError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamInterrupted,
    Timeout,
)
from .llm import (
    AsyncProvider,
    AsyncStreamingProvider,
    Audio,
    ChatRequest,
    ChatResponse,
    Citation,
    Document,
    FinishReason,
    Image,
    Message,
    Part,
    Provider,
    ProviderPart,
    Reasoning,
    ReasoningBlock,
    Refusal,
    Role,
    StreamChunk,
    StreamingProvider,
    StreamStats,
    TextPart,
    Tool,
    ToolCall,
    Usage,
)

if TYPE_CHECKING:
    from ._observe import CallEnd, CallInfo, Observer, observers
    from ._options import Timeouts
    from ._provider import AsyncHTTPProvider, HTTPProvider, async_provider, provider
    from ._retry import RetryPolicy
    from ._stream import AsyncStream, Stream

__version__ = "0.1.0"

# The client half (and httpx under it) loads on first use, so `import kairos` for the contract
# types and errors is cheap and a CLI or serverless cold start pays for httpx only when it
# streams. ``kairos.provider`` and the rest work as plain attributes.
_LAZY = {
    "AsyncHTTPProvider": "._provider",
    "HTTPProvider": "._provider",
    "async_provider": "._provider",
    "provider": "._provider",
    "Timeouts": "._options",
    "RetryPolicy": "._retry",
    "AsyncStream": "._stream",
    "Stream": "._stream",
    "CallEnd": "._observe",
    "CallInfo": "._observe",
    "Observer": "._observe",
    "observers": "._observe",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'kairos' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "APIStatusError",
    "AsyncHTTPProvider",
    "AsyncProvider",
    "AsyncStream",
    "AsyncStreamingProvider",
    "Audio",
    "AuthenticationError",
    "BadRequestError",
    "CallEnd",
    "CallInfo",
    "Cancelled",
    "ChatRequest",
    "ChatResponse",
    "Citation",
    "ConfigurationError",
    "ConflictError",
    "ConnectError",
    "ConnectTimeout",
    "ContextLengthError",
    "DeadlineExceeded",
    "Document",
    "FinishReason",
    "FirstChunkTimeout",
    "HTTPProvider",
    "IdleTimeout",
    "Image",
    "IncompleteStreamError",
    "KairosError",
    "Message",
    "NotFoundError",
    "Observer",
    "OutputError",
    "OverloadedError",
    "Part",
    "PermissionDeniedError",
    "ProtocolError",
    "Provider",
    "ProviderPart",
    "RateLimitError",
    "Reasoning",
    "ReasoningBlock",
    "Refusal",
    "RetryPolicy",
    "Role",
    "ServerError",
    "Stream",
    "StreamChunk",
    "StreamError",
    "StreamInterrupted",
    "StreamStats",
    "StreamingProvider",
    "TextPart",
    "Timeout",
    "Timeouts",
    "Tool",
    "ToolCall",
    "Usage",
    "__version__",
    "async_provider",
    "observers",
    "provider",
]
