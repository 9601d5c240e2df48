"""kairos.otel: OpenTelemetry GenAI spans and metrics for every kairos call.

``pip install 'kairos-llm[otel]'`` (it needs only ``opentelemetry-api``; bring the SDK and
exporters you use), then::

    import kairos.otel
    kairos.otel.instrument()              # the global tracer and meter providers
    kairos.otel.instrument(tracer_provider=tp, meter_provider=mp)
    kairos.otel.uninstrument()

``instrument`` registers a :class:`GenAIObserver` in ``kairos.observers`` (so it watches the
calls of every provider, sync and async; to watch one provider only, pass
``observers=[kairos.otel.GenAIObserver(...)]`` to :func:`kairos.provider` instead). Calls in
flight when ``uninstrument`` runs still end their spans.

What it emits
-------------
One ``CLIENT`` span per call, named ``chat {model}``, started when the call starts (its
parent is the context current there) and ended when the stream ends, however it ends:
completion, an error before or during the stream, ``break``, ``close()``, task cancellation,
or a stream dropped without closing. Attributes: ``gen_ai.operation.name`` (``chat``),
``gen_ai.provider.name``, ``gen_ai.request.model``, ``.max_tokens``, ``.temperature``,
``.top_p``, ``.stop_sequences``, ``gen_ai.request.stream`` (kairos always streams),
``server.address``, ``server.port``; at the end ``gen_ai.response.model``,
``gen_ai.response.id``, ``gen_ai.response.finish_reasons`` (the provider's own reason, else
kairos' normalised one), ``gen_ai.response.time_to_first_chunk``, ``gen_ai.usage.input_tokens``,
``gen_ai.usage.output_tokens`` (and ``.cache_read.input_tokens`` / ``.reasoning.output_tokens``
when the provider reports them), ``kairos.attempts`` and ``kairos.chunks``. A failure or a
cancellation sets ``error.type`` to the kairos error's class name (``RateLimitError``,
``IdleTimeout``, ``Cancelled``... the tree in :mod:`kairos.errors`) and the span status to
``ERROR`` with the error's one-line, key-redacted message. Each retry is a span event
``kairos.retry`` (``kairos.attempt``, ``error.type``, ``kairos.retry.wait`` in seconds).

Metrics, with the conventions' attributes (operation, provider, request and response model,
server address and port; ``error.type`` on the duration) and bucket boundaries:
``gen_ai.client.operation.duration`` (s), ``gen_ai.client.token.usage`` ({token}, by
``gen_ai.token.type`` ``input`` / ``output``, when the provider reported usage),
``gen_ai.client.operation.time_to_first_chunk`` (s) and
``gen_ai.client.operation.time_per_output_chunk`` (s, one measurement per chunk after the
first, the time since the previous chunk was read).

With ``OTEL_SEMCONV_STABILITY_OPT_IN`` containing ``gen_ai_latest_experimental`` the token
metric takes its newer names: ``gen_ai.client.inference.operation.input_tokens`` and
``gen_ai.client.inference.operation.output_tokens`` ({token} histograms without
``gen_ai.token.type``, recorded for every call, failed ones included, 0 when no usage
arrived). Message content is recorded only when
``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` is ``true`` (or ``SPAN_ONLY`` /
``SPAN_AND_EVENT``): ``gen_ai.input.messages``,
``gen_ai.system_instructions`` and ``gen_ai.output.messages`` on the span, as JSON strings in
the conventions' message schemas. Both switches are read by ``instrument``.

Sources (names checked against them)
------------------------------------
* open-telemetry/semantic-conventions **v1.41.0**, the last release that holds the GenAI
  conventions before they moved to their own repository (semantic-conventions PR #3696):
  ``docs/gen-ai/gen-ai-spans.md`` (the inference span: name ``{gen_ai.operation.name}
  {gen_ai.request.model}``, kind ``CLIENT``, its attributes and requirement levels, content on
  attributes serialised as JSON strings), ``docs/gen-ai/gen-ai-metrics.md`` (the four client
  metrics, their units, attributes and ``ExplicitBucketBoundaries``; the well-known
  ``gen_ai.provider.name`` values ``openai``, ``anthropic``, ``gcp.gemini`` -- for
  generativelanguage.googleapis.com --, ``groq``, ``deepseek``...; ``gen_ai.token.type``), the
  transition note in ``docs/gen-ai/README.md`` (``OTEL_SEMCONV_STABILITY_OPT_IN``,
  ``gen_ai_latest_experimental``), ``docs/gen-ai/gen-ai-input-messages.json`` and
  ``gen-ai-output-messages.json`` (message parts ``text``, ``tool_call``,
  ``tool_call_response``, ``reasoning``; ``finish_reason``), and
  ``docs/general/recording-errors.md`` (status and ``error.type``).
* open-telemetry/semantic-conventions-genai, ``docs/gen-ai/gen-ai-token-metrics.md`` and
  ``changelog.d/374.breaking.md``: the per-operation token histograms that replace
  ``gen_ai.client.token.usage`` (the newer names above). That repository also drafts usage
  counters whose names changed between its revisions; kairos emits them when they are released.
* ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` is the switch of the
  opentelemetry-python-contrib GenAI instrumentations (``util/opentelemetry-util-genai``).

The provider name is data: each preset row says its ``genai_provider``
(``kairos/providers/_presets.py``); presets without a registered value report their own name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._observe import observers
from ..errors import ConfigurationError

if TYPE_CHECKING:
    from ._observer import GenAIObserver

__all__ = ["GenAIObserver", "instrument", "uninstrument"]


def _observer_class() -> type[GenAIObserver]:
    try:
        from ._observer import GenAIObserver
    except ImportError as exc:
        missing = (exc.name or "opentelemetry").split(".")[0]
        raise ConfigurationError(
            f"kairos.otel needs {missing}-api: pip install 'kairos-llm[otel]'"
        ) from None
    return GenAIObserver


def __getattr__(name: str) -> Any:
    if name == "GenAIObserver":
        return _observer_class()
    raise AttributeError(f"module 'kairos.otel' has no attribute {name!r}")


def instrument(tracer_provider: Any = None, meter_provider: Any = None) -> GenAIObserver:
    """Emit GenAI spans and metrics for every kairos call (replacing an earlier
    ``instrument``); ``None`` uses OpenTelemetry's global providers. Returns the observer."""
    observer = _observer_class()(tracer_provider, meter_provider)
    uninstrument()
    observers.add(observer)
    return observer


def uninstrument() -> None:
    """Stop emitting for new calls (calls in flight still end their spans)."""
    cls = _observer_class()
    for observer in list(observers):
        if type(observer) is cls:
            observers.remove(observer)
