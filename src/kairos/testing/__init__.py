"""kairos.testing: test code built on kairos without keys or network.

PLACEHOLDER
"""

from ._doubles import (
    AsyncFunctionProvider,
    AsyncScriptedProvider,
    Exchange,
    FunctionProvider,
    ScriptedProvider,
    ScriptExhausted,
    as_reply,
)
from ._guard import NetworkBlocked, block_network
from ._render import CONTENT_TYPES, WIRES, error_status, render_body, render_error, render_stream
from ._script import (
    FAIL_KINDS,
    Call,
    Fail,
    Pause,
    Reasoning,
    Reply,
    Text,
    estimate_tokens,
    load_replies,
    reply_from_dict,
)
from ._transport import BodyStream, ReplayTransport

__all__ = [
    "CONTENT_TYPES",
    "FAIL_KINDS",
    "WIRES",
    "AsyncFunctionProvider",
    "AsyncScriptedProvider",
    "BodyStream",
    "Call",
    "Exchange",
    "Fail",
    "FunctionProvider",
    "NetworkBlocked",
    "Pause",
    "Reasoning",
    "ReplayTransport",
    "Reply",
    "ScriptExhausted",
    "ScriptedProvider",
    "Text",
    "as_reply",
    "block_network",
    "error_status",
    "estimate_tokens",
    "load_replies",
    "render_body",
    "render_error",
    "render_stream",
    "reply_from_dict",
]
