"""The only package that touches httpx: clients, send, read, close, and exception mapping.

Everything here is a thin twin (sync / async) with the same names; decisions live in the call
owner (``_call``) and the stream machine (``_machine``).

Per-read deadlines: httpx takes one read timeout per request, but a stream has clocks that move
(first chunk, then idle since the last event, capped by a total deadline). When the connection
exposes its network stream (httpcore, HTTP/1.1), :func:`read_clock` makes each read wait at
most until ``ReadClock.deadline``, a plain value the shell updates after every read from the
machine; this module never calls back into the machine. Without a network stream the httpx
read timeout is the fallback and the clocks are still checked whenever bytes arrive.

Connections: sends enter httpx's pool one at a time, and a complete stream's body is read to
its end within ``Timeouts.drain`` (sync: before the response is released; async: by a
background task) so that the connection is reused; both are kept per client in ``_pool``.
"""

from ._body import abort, aclose, aiter_body, apark, aread_body, close, iter_body, park, read_body
from ._clock import ReadClock, read_clock
from ._errors import ReadTimedOut
from ._send import asend, async_client, client, guard_redirects, send

__all__ = [
    "ReadClock",
    "ReadTimedOut",
    "abort",
    "aclose",
    "aiter_body",
    "apark",
    "aread_body",
    "asend",
    "async_client",
    "client",
    "close",
    "guard_redirects",
    "iter_body",
    "park",
    "read_body",
    "read_clock",
    "send",
]
