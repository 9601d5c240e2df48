"""Keeping the caller's secrets (API keys) out of every error kairos surfaces.

Servers sometimes echo the key back in an error message or body. :func:`redact` is applied
once to each error where it is finalised: by the call owner (``_call``) before an error is
raised from ``chat_stream``, and by the stream machine (``_machine``) when it builds a final
chunk carrying an error.
"""

from __future__ import annotations

from .errors import KairosError

__all__ = ["MIN_SECRET", "redact"]

MIN_SECRET = 8
"""Shorter "keys" (placeholders such as ``x``, ``EMPTY`` or ``ollama`` for local servers) are
not credentials; redacting them would rewrite every ``x`` in a message, so they are left alone."""


def redact(err: KairosError, secrets: tuple[str, ...]) -> KairosError:
    """Remove ``secrets`` from an error's text and body; returns ``err``."""
    secrets = tuple(s for s in secrets if len(s) >= MIN_SECRET)
    if not secrets:
        return err
    text = err.message
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, "[redacted]")
    if text != err.message:
        err.message = text
        err.args = (text,)
    if err.body is not None:
        try:
            body = repr(err.body)
            leaked = any(s in body for s in secrets)
        except RecursionError:  # nested too deep to check (a hostile body): drop it
            leaked = True
        if leaked:
            err.body = "[redacted: the error body contained the API key]"
    return err
