"""SIGTERM handled like Ctrl-C, for the foreground commands (``kairos stream``, ``serve``,
``web``): the main thread gets a ``KeyboardInterrupt`` (or a subclass) and cleans up."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

__all__ = ["sigterm_raises"]


@contextlib.contextmanager
def sigterm_raises(exc: type[KeyboardInterrupt] = KeyboardInterrupt) -> Iterator[None]:
    """Raise ``exc`` on SIGTERM while inside (main thread only: signal handlers can only be set
    there; elsewhere this does nothing)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        raise exc

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous: Any = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
