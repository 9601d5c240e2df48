"""The Gemini wire (Google AI ``streamGenerateContent`` with ``alt=sse``).

Wire facts (Gemini API reference, "Generating content" / "Function calling" / "Thought
signatures" / "Troubleshooting"; ``google.rpc.Status`` for errors):
``POST {base}/v1beta/models/{model}:streamGenerateContent?alt=sse`` with the key in the
``x-goog-api-key`` header. The body has ``systemInstruction``, ``contents`` (roles ``user`` and
``model``, each a list of ``parts``), ``tools`` (``functionDeclarations``), ``toolConfig`` and
``generationConfig``. A tool call is a ``functionCall`` part (``name``, ``args`` object, optional
``id``) in a model turn; its answer a ``functionResponse`` part (``name``, ``response`` object,
optional ``id``) in a user turn. The answer is SSE ``data:`` lines (CRLF framed), each a whole
``GenerateContentResponse``: ``candidates[0].content.parts`` (``text``, ``thought: true`` text,
``functionCall``, ``executableCode``...), ``finishReason`` on the last candidate chunk,
``usageMetadata`` (cumulative: the last one counts) and ``modelVersion``. There is no end
marker: the body ends after the chunk with a ``finishReason`` (kairos ends the stream at
that chunk when it also carries the ``usageMetadata``, as every recorded stream's last chunk
does). Errors are ``{"error": {"code", "message", "status", "details"}}``, as the HTTP body
or as a data line.

Tool-call ids: ``functionCall.id`` when the wire has one. Otherwise kairos generates
``kcall_<24 hex>`` from the response id, the call's position, name and arguments, so parallel
calls to one function differ, the same bytes always give the same ids (``chat()`` equals the
drained stream), and calls in different responses differ. Generated ids are never sent back to
Gemini (the model never saw them); wire ids are.

Gemini 3 models attach a ``thoughtSignature`` to function-call parts and reject a later request
whose history drops it. The codec keeps no state between requests: the signature travels in the
data, as the call's ``provider_data`` (``{"gemini": {"thoughtSignature": ...}}``), filled when
parsing and put back on the same part when building, so a new provider object sends the same
second turn. For a ``gemini-3`` model whose tool-call turn has no signature it sends the
sentinel Google documents for replayed history (``skip_thought_signature_validator``).
"""

from __future__ import annotations

from .._spec import Route, WireSpec

__all__ = ["WIRE"]

_MODEL = r"/(?:v1beta|v1|v1alpha)/(?:models|tunedModels)/(?P<model>[^/:]+)"
WIRE = WireSpec(
    name="gemini",
    title="Gemini",
    framing="sse",
    preset="gemini",
    routes=(
        # streamGenerateContent streams SSE with alt=sse, else answers one JSON array
        Route(_MODEL + ":streamGenerateContent", stream=True, stream_query="alt=sse"),
        Route(_MODEL + ":generateContent", stream=False),
    ),
    looks_like=(r"/v1beta", r"/v1alpha", r":[^/]*$"),
    messages_key="contents",
    content_key="parts",
)
