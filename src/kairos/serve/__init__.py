"""``kairos serve``: a loopback server that speaks every provider's real wire protocol.

It answers every wire in the registry (OpenAI Chat Completions and DashScope's compatible path,
Anthropic Messages, Gemini ``streamGenerateContent?alt=sse`` / ``generateContent``, Ollama
``/api/chat``), streaming and not, from a script file (see :mod:`kairos.serve._script`) or from
recorded bodies, with optional faults (delays, truncation, in-band errors, HTTP errors with
``Retry-After``)::

    from kairos.serve import EmulatorServer

    with EmulatorServer("examples/serve_script.yaml") as srv:
        p = kairos.provider("openai", base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="x")

Layout: ``_emulator`` (pure, sans-I/O) decides every answer, reading each wire's routes through
``_routes`` and rendering with each wire's renderer; ``_script`` loads script files; ``_app``
(Starlette) and ``_server`` (Uvicorn) host it and need the ``serve`` extra (``pip install
'kairos-llm[serve]'``); ``_offline`` is the embedded offline demo's stdlib host. Importing this
package is cheap and never needs the extra; reading ``serve`` or ``EmulatorServer`` without
Starlette/Uvicorn raises :class:`kairos.ConfigurationError`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ._emulator import Answer, Emulator, Seen
from ._routes import base_urls
from ._script import Entry, Script, load_script, parse_script, script_from_dir

if TYPE_CHECKING:
    from ._server import EmulatorServer, serve

__all__ = [
    "Answer",
    "Emulator",
    "EmulatorServer",
    "Entry",
    "Script",
    "Seen",
    "base_urls",
    "load_script",
    "parse_script",
    "script_from_dir",
    "serve",
]

_NEEDS_EXTRA = ("EmulatorServer", "serve")


def __getattr__(name: str) -> Any:
    if name not in _NEEDS_EXTRA:
        raise AttributeError(f"module 'kairos.serve' has no attribute {name!r}")
    try:
        from . import _server
    except ImportError as exc:
        missing = (exc.name or "starlette/uvicorn").split(".")[0]
        raise ConfigurationError(
            f"kairos serve needs {missing}: pip install 'kairos-llm[serve]'"
        ) from None
    return getattr(_server, name)
