"""The item ids the emulator gives Responses output items, and what the strict mode reads off them.

OpenAI's item ids share a prefix per response (``rs_0a4d51...`` and ``fc_0a4d51...``). The
emulator's ids do too: ``<kind prefix><stem: 24 hex, per response><link: 4 hex><index: 4
hex><check: 16 hex>``. ``index`` is the item's ``output_index``; a ``function_call``'s ``link``
is the output index of the reasoning item that preceded it in the same response (``ffff``: none),
other items link to themselves; ``check`` is a digest of the rest, so an id the emulator made
is recognised and the reasoning item a call needs back can be named (the strict mode's
"provided without its required 'reasoning' item").
"""

from __future__ import annotations

import hashlib

__all__ = ["NONE", "item_id", "required_reasoning", "stem"]

NONE = 0xFFFF  # a call that no reasoning item preceded


def stem(seed: str) -> str:
    """The part every item id of one rendered response shares."""
    return hashlib.sha256(f"responses-stem|{seed}".encode()).hexdigest()[:24]


def _check(head: str) -> str:
    return hashlib.sha256(f"kairos|{head}".encode()).hexdigest()[:16]


def item_id(prefix: str, base: str, index: int, link: int | None = None) -> str:
    """The id of output item ``index`` (``link``: see the module docstring)."""
    head = f"{prefix}{base}{(index if link is None else link):04x}{index:04x}"
    return head + _check(head)


def required_reasoning(call_id: str) -> str | None:
    """For a ``function_call`` item id the emulator made after a reasoning item: that reasoning
    item's id. None for any other id."""
    if not call_id.startswith("fc_") or len(call_id) != 3 + 24 + 8 + 16:
        return None
    head, check = call_id[:-16], call_id[-16:]
    if _check(head) != check:
        return None
    base, link = head[3:27], int(head[27:31], 16)
    return None if link == NONE else item_id("rs_", base, link)
