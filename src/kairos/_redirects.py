"""The API key never follows a redirect to another origin. Pure: works on any object shaped
like an httpx request or client (``_http`` calls it; this module imports no httpx).

httpx drops only ``Authorization`` on a cross-origin redirect, but some wires carry the key in
a header of their own. Every request kairos builds is marked (:func:`mark`) with its origin and
the names of its headers that carry one of its secrets, as a request extension, which httpx
copies onto each redirect request. A request hook installed on the client (:func:`guard`, also
on a client the caller passed) removes those headers from any request that left that origin,
with httpx's own exception: an ``http`` -> ``https`` upgrade of the same host keeps them. No
provider is named: whichever header carries the key is the one removed.
"""

from __future__ import annotations

from typing import Any

from ._codec import HTTPRequest

__all__ = ["guard", "mark"]

_KEY = "kairos_key_headers"


def _origin(url: Any) -> tuple[str, str, int | None]:
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default


def mark(request: Any, req: HTTPRequest) -> None:
    """Record on ``request`` its origin and which of its headers carry one of ``req``'s
    secrets (the API key)."""
    secrets = [s for s in req.secrets if s]
    names = tuple(k for k, v in req.headers.items() if any(s in v for s in secrets))
    if names:
        request.extensions[_KEY] = (_origin(request.url), names)


def strip(request: Any) -> None:
    """The request hook: drop the key headers from a request that left its origin."""
    marked = request.extensions.get(_KEY)
    if not marked:
        return
    (scheme, host, port), names = marked
    now = _origin(request.url)
    upgrade = (scheme, port, now[0], now[2]) == ("http", 80, "https", 443) and now[1] == host
    if now != (scheme, host, port) and not upgrade:
        for name in names:
            request.headers.pop(name, None)


async def astrip(request: Any) -> None:
    strip(request)


def guard(client: Any, *, is_async: bool) -> None:
    """Install the hook on ``client`` (once)."""
    hook: Any = astrip if is_async else strip
    hooks = client.event_hooks.get("request")
    if hooks is None:
        client.event_hooks = {**client.event_hooks, "request": [hook]}
    elif hook not in hooks:
        hooks.append(hook)
