"""Which wire and endpoint a request is for, from the routes every wire declares (pure).

Each wire's :class:`~kairos.providers.WireSpec` lists the paths its provider answers (so
official SDKs work with only a base-URL change), the liveness probes some clients send first,
and the path shapes whose 404s should look like that provider's. This module reads those rows
and names no provider. A path no wire claims is a 404 in the shape of the wire it looks like
(else the demo preset's wire).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..providers import PRESETS, WIRES, Probe, demo_preset, wire_spec

__all__ = ["Target", "base_urls", "default_wire", "emulated_base_url", "route", "wire_titles"]


@dataclass(frozen=True)
class Target:
    wire: str
    kind: str  # "chat" | "probe" | "unknown"
    model: str = ""  # from the path
    stream: bool | None = None  # from the path; None: from the body
    json_array: bool = False  # a streaming path asked without its stream query (a JSON array)
    probe: Probe | None = None


def default_wire() -> str:
    return demo_preset().wire


def route(method: str, path: str, query: str) -> Target:
    """Which wire and endpoint a request is for (``kind="unknown"`` for a 404)."""
    path = "/" + path.strip("/")
    for name in WIRES:
        spec = wire_spec(name)
        for r in spec.routes:
            found = r.match(method, path)
            if found is None:
                continue
            model = found.groupdict().get("model") or ""
            if r.stream and r.stream_query is not None:
                streams = r.stream_query in query.split("&")
                return Target(name, "chat", model, streams, json_array=not streams)
            return Target(name, "chat", model, r.stream)
        for probe in spec.probes:
            if method in (probe.method, "HEAD") and path == probe.path:
                return Target(name, "probe", probe=probe)
    return Target(_looks_like(path), "unknown")


def _looks_like(path: str) -> str:
    """The wire an unknown path most looks like (for the shape of its 404)."""
    for name in WIRES:
        if any(re.search(pattern, path) for pattern in wire_spec(name).looks_like):
            return name
    return default_wire()


def emulated_base_url(url: str, preset: str) -> str:
    """The base URL a client of ``preset`` uses for the emulator at ``url``: the path of the
    preset's own base URL (``/v1``, ``/compatible-mode/v1``) on the emulator's host; a preset
    without one (any-server presets) takes its wire's default preset's path."""
    row = PRESETS[preset]
    base = row.base_url or PRESETS[wire_spec(row.wire).preset].base_url
    return url + urlsplit(base).path.rstrip("/")


def base_urls(url: str) -> dict[str, str]:
    """The environment variables that point each SDK (and kairos) at the emulator at ``url``:
    every preset's ``base_url_env`` and ``sdk_env`` whose provider has a fixed base URL."""
    out: dict[str, str] = {}
    for p in PRESETS.values():
        if p.base_url and p.base_url_env and not p.local:
            out.setdefault(p.base_url_env, emulated_base_url(url, p.name))
            for var in p.sdk_env:
                out.setdefault(var, emulated_base_url(url, p.name))
        elif (p.local or p.endpoint_path) and p.base_url_env:  # a host, or a resource origin
            out.setdefault(p.base_url_env, url)
    return out


def wire_titles() -> str:
    """The emulated wires for people: ``"A, B, C and D"``."""
    titles = [wire_spec(name).title for name in WIRES]
    return ", ".join(titles[:-1]) + " and " + titles[-1] if len(titles) > 1 else titles[0]
