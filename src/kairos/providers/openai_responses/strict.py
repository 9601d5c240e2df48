"""What the Responses API rejects, for ``kairos serve --strict`` and the testing doubles'
``strict=True``: ``check(body, model, preset)`` gives ``(status, message)`` or None.

Rules and messages as the API gives them (its 400/404 answers as users report them; "Reasoning":
"Encrypted reasoning items"; "Images and vision"; "File inputs"):

* **A reasoning model's tool turn without its reasoning item.** A ``function_call`` item sent
  with its item ``id`` must come after the ``reasoning`` item that preceded it in its response:
  400 "Item 'fc_...' of type 'function_call' was provided without its required 'reasoning'
  item: 'rs_...'.". How the emulator knows a call came from a reasoning model: an item id the
  emulator made says whether a reasoning item preceded the call, and which (``ids.py``); for
  any other id, the request's model is a reasoning model (:data:`REASONING_MODELS`: the o-series,
  the gpt-5 family, codex models) and the call's assistant turn (the items since the last user
  message or tool result) has no reasoning item. The rule applies when the client can send
  reasoning back: the request stores (``store: true``) or asks for the encrypted reasoning
  (``include: ["reasoning.encrypted_content"]``); otherwise the API could not take the item
  either.
* **A reasoning item the API must look up** (no ``encrypted_content``) in a request that does not
  store: 404 "Item with id 'rs_...' not found. Items are not persisted when `store` is set to
  `false`. ...".
* **Content parts**: a type the input does not have (``input_audio``, Chat Completions'
  ``text``...); an ``input_image`` URL that is neither http(s) nor a ``data:`` URL of PNG, JPEG,
  GIF or WebP; an ``input_file`` whose ``file_data`` is not a PDF ``data:`` URL.
"""

from __future__ import annotations

import re
from typing import Any

from .ids import required_reasoning

__all__ = ["REASONING_MODELS", "check"]

# models that reason on every answer (OpenAI "Reasoning models"): o1, o3, o4-mini, gpt-5*, codex
REASONING_MODELS = re.compile(r"(o\d|gpt-5|codex)")
_CONTENT_TYPES = (
    "input_text",
    "input_image",
    "output_text",
    "refusal",
    "input_file",
    "computer_screenshot",
    "summary_text",
)
_IMAGE_URL = re.compile(r"(https?://|data:image/(png|jpeg|gif|webp);base64,)")
_PDF = re.compile(r"data:application/pdf;base64,")


def _supported() -> str:
    names = [f"'{t}'" for t in _CONTENT_TYPES]
    return ", ".join(names[:-1]) + ", and " + names[-1]


def _part(part: Any, where: str) -> str | None:
    if not isinstance(part, dict):
        return None
    kind = part.get("type")
    if kind not in _CONTENT_TYPES:
        return f"Invalid value: '{kind}'. Supported values are: {_supported()}."
    if kind == "input_image" and not _IMAGE_URL.match(str(part.get("image_url") or "https://")):
        return (
            f"Invalid '{where}.image_url'. Expected a base64-encoded data URL with an image MIME "
            "type (e.g. 'data:image/png;base64,aW1nIGJ5dGVzIGhlcmU='), or a URL."
        )
    data = part.get("file_data")
    if kind == "input_file" and data is not None and not _PDF.match(str(data)):
        return f"Invalid '{where}.file_data': expected a PDF file as a base64 data URL."
    return None


def _parts(items: list[Any]) -> str | None:
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            continue
        content = item.get("content") if item.get("type", "message") == "message" else None
        if item.get("type") == "function_call_output":
            content = item.get("output")
        for j, part in enumerate(content if isinstance(content, list) else []):
            found = _part(part, f"input[{i}].content[{j}]")
            if found:
                return found
    return None


def _carries(body: dict[str, Any]) -> bool:
    """Whether the client can send reasoning back: it stores, or has the encrypted content."""
    include = body.get("include")
    encrypted = isinstance(include, list) and "reasoning.encrypted_content" in include
    return body.get("store") is True or encrypted


def _missing(items: list[Any], model: str) -> str | None:
    """The first call sent without the reasoning item it needs."""
    seen: set[str] = set()
    reasoned = False  # a reasoning item since the last user message or tool result
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type", "message")
        if kind == "reasoning":
            seen.add(str(item.get("id")))
            reasoned = True
        elif kind == "function_call_output" or item.get("role") in ("user", "system", "developer"):
            reasoned = False
        elif kind == "function_call" and isinstance(item.get("id"), str):
            found = _required(item["id"], model, reasoned, seen)
            if found is not None:
                return found
    return None


def _required(call: str, model: str, reasoned: bool, seen: set[str]) -> str | None:
    needed = required_reasoning(call)
    if needed is not None and needed not in seen:
        what = f": '{needed}'"
    elif needed is None and not reasoned and REASONING_MODELS.match(model):
        what = ""  # another server's ids: which reasoning item is not known here
    else:
        return None
    return (
        f"Item '{call}' of type 'function_call' was provided without its required "
        f"'reasoning' item{what}."
    )


def _unstored(body: dict[str, Any], items: list[Any]) -> str | None:
    if body.get("store") is True:
        return None
    for item in items:
        if not isinstance(item, dict) or item.get("type") != "reasoning":
            continue
        if not item.get("encrypted_content") and item.get("id"):
            return (
                f"Item with id '{item['id']}' not found. Items are not persisted when "
                "`store` is set to `false`. Try again with `store` set to `true`, or remove "
                "this item from your input."
            )
    return None


def check(body: dict[str, Any], model: str, preset: str | None = None) -> tuple[int, str] | None:
    items = body.get("input")
    items = items if isinstance(items, list) else []
    found = _parts(items)
    if found:
        return 400, found
    found = _unstored(body, items)
    if found:
        return 404, found
    found = _missing(items, model) if _carries(body) else None
    return None if found is None else (400, found)
