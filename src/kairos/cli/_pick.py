"""Which provider a command uses: ``--provider``, else the first preset whose key is set, else a
reachable local server, else the embedded offline demo. Shared by ``kairos stream``, ``kairos
web`` and ``kairos batch``; every choice comes from the registry's preset rows."""

from __future__ import annotations

import argparse
import contextlib
import socket
from collections.abc import Iterator, Mapping
from urllib.parse import urlsplit

import kairos
from kairos.providers import PRESETS, Preset

__all__ = ["AUTO_ORDER", "OFFLINE", "any_server", "open_provider", "pick_provider", "port"]

AUTO_ORDER = tuple(p.name for p in PRESETS.values() if p.auto)  # the registry's rows say which
OFFLINE = "offline"


def port(text: str) -> int:
    """An argparse type: a TCP port number."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"port out of range (0-65535): {value}")
    return value


def _reachable(preset: Preset, env: Mapping[str, str]) -> bool:
    """Whether a local server (a preset marked ``local``) accepts connections."""
    host = (env.get(preset.base_url_env) if preset.base_url_env else None) or preset.base_url
    try:
        parts = urlsplit(host.strip() if "://" in host else f"http://{host.strip()}")
        port = parts.port or urlsplit(preset.base_url).port or 80
    except ValueError:  # a bad port or an unclosed "[": the variable is wrong, say so
        raise kairos.ConfigurationError(
            f"{preset.base_url_env} is not a usable address (expected host:port or "
            "http://host:port)"
        ) from None
    try:
        with socket.create_connection((parts.hostname or "localhost", port), 0.3):
            return True
    except OSError:
        return False


def any_server() -> Preset:
    """The preset for a server at any base URL (the row without a base URL of its own)."""
    return next(p for p in PRESETS.values() if not p.base_url)


def pick_provider(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, str]:
    """The provider to use and why (shown to the user)."""
    if args.provider:
        return args.provider, "chosen with --provider"
    if args.base_url:
        return any_server().name, "--base-url given without --provider"
    for name in AUTO_ORDER:
        for var in PRESETS[name].key_env:
            if env.get(var):
                return name, f"{var} is set"
    for preset in PRESETS.values():
        if preset.local and _reachable(preset, env):
            return preset.name, f"a local {preset.name} server answered"
    return OFFLINE, "no API key set and no local server: embedded offline demo"


@contextlib.contextmanager
def open_provider(name: str, args: argparse.Namespace) -> Iterator[kairos.HTTPProvider]:
    timeout = kairos.Timeouts(first_chunk=args.timeout, idle=args.timeout) if args.timeout else None
    if name == OFFLINE:
        from kairos.serve._offline import DEMO_MODEL, OfflineServer

        with (
            OfflineServer() as server,
            kairos.provider(
                server.preset,
                base_url=server.base_url,
                model=args.model or DEMO_MODEL,
                timeout=timeout,
            ) as p,
        ):
            yield p
        return
    with kairos.provider(name, model=args.model, base_url=args.base_url, timeout=timeout) as p:
        yield p
