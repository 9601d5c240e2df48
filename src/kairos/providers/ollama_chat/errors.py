"""Ollama errors -> typed errors (see the package docstring for why an in-band error line is a
:class:`~kairos.ServerError` with ``status=None``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..._codec import api_error
from ...errors import APIStatusError, ServerError
from .._base import as_dict, as_int, error_text, json_object, non_json_error

__all__ = ["http_error", "inband_error"]


def inband_error(provider: str, err: Any) -> APIStatusError:
    """An ``{"error": ...}`` line. See the module docstring for why it is a server error."""
    info = as_dict(err)
    status = (
        as_int(info.get("status_code")) or as_int(info.get("status")) or as_int(info.get("code"))
    )
    etype = info.get("type") if isinstance(info.get("type"), str) else None
    cls = None if status is not None else ServerError
    return api_error(provider, status, error_text(err), error_type=etype, cls=cls, body=err)


def http_error(
    provider: str, status: int, headers: Mapping[str, str], body: bytes
) -> APIStatusError:
    obj = json_object(body)
    if obj is None:
        return non_json_error(provider, status, headers, body)
    info = obj.get("error", obj)
    message = error_text(info) if info else f"HTTP {status}"
    etype = as_dict(info).get("type")
    return api_error(
        provider,
        status,
        message,
        error_type=etype if isinstance(etype, str) else None,
        headers=headers,
        body=obj,
    )
