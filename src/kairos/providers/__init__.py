"""The provider registry: wire formats and presets, as data rows.

A wire format is one folder here (``openai_chat/``, ``anthropic_messages/``, ``gemini/``,
``ollama_chat/``, ``openai_responses/``) holding everything about that wire -- request
building, event parsing, error mapping, the renderer and its emulation facts
(:class:`~kairos.providers._spec.WireSpec`) -- and one row in :data:`WIRES`. An endpoint that
speaks a known wire and needs no code of its own is one row in :data:`PRESETS`
(``_presets.py``). Nothing outside this package names a provider or a wire: the client,
``kairos.testing``, ``kairos serve`` and the CLI read these rows. Wire code is imported on first
use, so ``import kairos`` stays light.

Adding a wire: a folder with ``__init__.py`` (``WIRE = WireSpec(...)``), ``codec.py``
(``Codec``) and ``render.py`` (and ``strict.py``, what its API rejects, for the strict
emulator), one row below, and its tests and fixtures under ``tests/providers/<wire>/`` (see
``tests/README.md``).
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from .. import _validate
from .._codec import WireCodec
from ..errors import ConfigurationError
from ._base import CodecConfig
from ._presets import PRESETS, Preset
from ._spec import Probe, Route, WireSpec

if TYPE_CHECKING:
    from ._frames import Renderer

__all__ = [
    "PRESETS",
    "WIRES",
    "CodecConfig",
    "Preset",
    "Probe",
    "Route",
    "WireSpec",
    "codec_class",
    "demo_preset",
    "genai_provider",
    "make_codec",
    "renderer",
    "resolve_wire",
    "split_model",
    "strict_check",
    "wire_spec",
]

# (request body, model, preset or None) -> (HTTP status, message) of a rejection, or None
StrictCheck = Callable[[dict[str, Any], str, "str | None"], "tuple[int, str] | None"]

# wire name -> its package (imported on first use)
WIRES: Mapping[str, str] = {
    "openai-chat": "kairos.providers.openai_chat",
    "anthropic-messages": "kairos.providers.anthropic_messages",
    "gemini": "kairos.providers.gemini",
    "ollama-chat": "kairos.providers.ollama_chat",
    "openai-responses": "kairos.providers.openai_responses",
}


def _package(wire: str) -> str:
    package = WIRES.get(wire)
    if package is None:
        raise ConfigurationError(f"unknown wire {wire!r}; known: {', '.join(WIRES)}")
    return package


def wire_spec(wire: str) -> WireSpec:
    """The data row of a wire (its folder's ``WIRE``)."""
    spec: WireSpec = importlib.import_module(_package(wire)).WIRE
    return spec


def codec_class(wire: str) -> type[WireCodec]:
    return cast(type[WireCodec], importlib.import_module(_package(wire) + ".codec").Codec)


def renderer(wire: str) -> Renderer:
    """The wire's ``render`` module (see :mod:`kairos.providers._frames`)."""
    return cast("Renderer", importlib.import_module(_package(wire) + ".render"))


def strict_check(wire: str) -> StrictCheck | None:
    """What the wire's API rejects (its folder's ``strict.check``), or None if it has no
    rules. ``kairos serve --strict`` and the testing doubles' ``strict=True`` use it."""
    try:
        module = importlib.import_module(_package(wire) + ".strict")
    except ModuleNotFoundError:
        return None
    return cast(StrictCheck, module.check)


def resolve_wire(name: str) -> str:
    """A wire name for a wire name or a preset name (``"qwen"`` -> ``"openai-chat"``)."""
    if name in WIRES:
        return name
    preset = PRESETS.get(name)
    if preset is None:
        known = ", ".join(WIRES)
        raise ConfigurationError(f"unknown wire {name!r}; use one of {known} or a preset name")
    return preset.wire


def demo_preset() -> Preset:
    """The preset the embedded offline demo streams through (its row says ``demo=True``);
    its wire is also what ``kairos serve`` answers on paths it does not know."""
    return next(p for p in PRESETS.values() if p.demo)


def genai_provider(name: str) -> str:
    """What OpenTelemetry calls the provider of a preset (``gen_ai.provider.name``): the
    row's ``genai_provider``, else the preset's name (also for a name that is no preset)."""
    preset = PRESETS.get(name)
    return (preset.genai_provider if preset else "") or name


def split_model(spec: str) -> tuple[str, str]:
    """``"anthropic/claude-x"`` -> ``("anthropic", "claude-x")``; a bare name is a provider."""
    name, sep, model = spec.partition("/")
    if name in PRESETS:
        return name, model
    if not sep:
        raise ConfigurationError(f"unknown provider {spec!r}; known: {', '.join(PRESETS)}")
    raise ConfigurationError(f"unknown provider {name!r} in {spec!r}; known: {', '.join(PRESETS)}")


def _key(preset: Preset, api_key: str | None, env: Mapping[str, str]) -> str | None:
    """The key (``api_key=``, else the first of the preset's variables that is set), surrounding
    whitespace stripped; a key HTTP cannot carry is refused naming where it came from."""
    if api_key:
        return _validate.api_key(api_key, "api_key")
    for var in preset.key_env:
        if env.get(var):
            return _validate.api_key(env[var], var)
    return None


def _url(preset: Preset, base_url: str | None, env: Mapping[str, str]) -> str | None:
    """``base_url=``, else the preset's variable; an endpoint variable (``endpoint_path`` set:
    the resource's origin only, like Azure's) gets that path unless it already ends with it."""
    if base_url:
        return _validate.base_url(base_url, "base_url")
    var = preset.base_url_env
    if not (var and env.get(var, "").strip()):
        return None
    url = _validate.base_url(env[var], var)
    if preset.endpoint_path and not url.rstrip("/").endswith(preset.endpoint_path):
        url = url.rstrip("/") + preset.endpoint_path
    return url


def make_codec(
    name: str,
    *,
    model: str = "",
    api_key: str | None = None,
    base_url: str | None = None,
    headers: Mapping[str, str] | None = None,
    options: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
) -> WireCodec:
    """Build the codec for a preset, reading keys and base URLs from ``env`` (default
    ``os.environ``) when not given."""
    preset = PRESETS.get(name)
    if preset is None:
        raise ConfigurationError(f"unknown provider {name!r}; known: {', '.join(PRESETS)}")
    if options is not None and not isinstance(options, Mapping):
        raise ConfigurationError(f"options must be a mapping, not {type(options).__name__}")
    _validate.check_text(model, "model")
    env = os.environ if env is None else env
    key, url = _key(preset, api_key, env), _url(preset, base_url, env)
    # The provider's own endpoint needs a key; a server at another base URL may not.
    if preset.key_required and not key and not url:
        wanted = " or ".join(preset.key_env)
        raise ConfigurationError(f"{name}: no API key (set {wanted} or pass api_key=)")
    url = url or preset.base_url
    if not url:
        where = f"set {preset.base_url_env} or " if preset.base_url_env else ""
        raise ConfigurationError(f"{name}: a base URL is required ({where}pass base_url=)")
    config = CodecConfig(
        provider=name,
        base_url=url.rstrip("/"),
        default_model=model or preset.default_model,
        api_key=key,
        headers=_validate.headers(headers),
        options={**preset.options, **(options or {})},
    )
    return codec_class(preset.wire)(config)  # type: ignore[call-arg]
