"""This wire's rows for the fault tests (see ``tests/fault_wires.py``)."""

from __future__ import annotations

from typing import Any

import kairos


def visible_text(obj: dict[str, Any]) -> str:
    """The non-thought text parts of a ``GenerateContentResponse``."""
    out = []
    for cand in obj.get("candidates") or []:
        for part in (cand.get("content") or {}).get("parts") or []:
            out.append("" if part.get("thought") else str(part.get("text") or ""))
    return "".join(out)


ROWS = [
    {
        "name": "gemini",
        "fmt": "gemini",
        "case": "pai-text-basic",
        "inband_kind": "overloaded",
        "inband_cls": kairos.OverloadedError,
        # INVALID_ARGUMENT "The input token count exceeds the maximum...": message text only
        "context_cls": kairos.BadRequestError,
        "trailer": 1,
    },
]
