"""This wire's rows for the fault tests (see ``tests/fault_wires.py``)."""

from __future__ import annotations

from typing import Any

import kairos


def visible_text(obj: dict[str, Any]) -> str:
    """An NDJSON line's ``message.content``."""
    return str((obj.get("message") or {}).get("content") or "")


ROWS = [
    {
        "name": "ollama",
        "fmt": "ollama-chat",
        "case": "sk-phi3-tail-stop-usage",
        # ollama server/routes.go: an error after the first line is one {"error": text} line
        "inband_kind": "server",
        "inband_cls": kairos.ServerError,
        "context_cls": kairos.BadRequestError,  # {"error": text} under a 400: text only
        "trailer": 1,
    },
]
