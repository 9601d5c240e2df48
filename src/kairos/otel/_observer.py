""":class:`GenAIObserver`: one OpenTelemetry CLIENT span and the GenAI metrics per call."""

from __future__ import annotations

import inspect
from typing import Any

from opentelemetry import metrics, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from .. import __version__
from .._observe import CallEnd, CallInfo, Observer
from ..errors import KairosError
from ..llm import StreamChunk
from . import _semconv as sc

__all__ = ["GenAIObserver"]

SCOPE = "kairos"
SCHEMA_URL = "https://opentelemetry.io/schemas/1.41.0"


class _Live:
    """One call in flight: its span, its metric attributes and its chunk clock."""

    __slots__ = ("attrs", "gaps", "last", "span")

    def __init__(self, span: Any, attrs: dict[str, Any]) -> None:
        self.span = span
        self.attrs = attrs  # the metric attributes known at the start
        self.last: float | None = None  # when the previous chunk was read
        self.gaps: list[float] = []  # time between chunks, recorded when the call ends


def _histogram(meter: Any, name: str, unit: str, description: str, buckets: Any) -> Any:
    """A histogram with the conventions' bucket boundaries as advice (API >= 1.23)."""
    params = inspect.signature(meter.create_histogram).parameters
    if "explicit_bucket_boundaries_advisory" in params:
        return meter.create_histogram(
            name, unit=unit, description=description, explicit_bucket_boundaries_advisory=buckets
        )
    return meter.create_histogram(name, unit=unit, description=description)


class GenAIObserver(Observer):
    """Emits the GenAI semantic conventions for every call it watches (see :mod:`kairos.otel`).

    ``latest``: the newer metric names (``OTEL_SEMCONV_STABILITY_OPT_IN`` containing
    ``gen_ai_latest_experimental``); ``capture_content``: record message content on the span.
    Both default to what the environment says."""

    def __init__(
        self,
        tracer_provider: Any = None,
        meter_provider: Any = None,
        *,
        latest: bool | None = None,
        capture_content: bool | None = None,
    ) -> None:
        self.latest = sc.latest_experimental() if latest is None else latest
        self.capture = sc.capture_content() if capture_content is None else capture_content
        tracer_provider = tracer_provider or trace.get_tracer_provider()
        meter_provider = meter_provider or metrics.get_meter_provider()
        self._tracer = tracer_provider.get_tracer(SCOPE, __version__, schema_url=SCHEMA_URL)
        meter = meter_provider.get_meter(SCOPE, __version__, schema_url=SCHEMA_URL)
        seconds = sc.DURATION_BUCKETS
        self._duration = _histogram(meter, sc.DURATION, "s", "GenAI operation duration.", seconds)
        self._ttfc = _histogram(
            meter, sc.TIME_TO_FIRST_CHUNK, "s", "Time to receive the first chunk.", seconds
        )
        self._tpoc = _histogram(
            meter, sc.TIME_PER_OUTPUT_CHUNK, "s", "Time per output chunk.", seconds
        )
        tokens = sc.TOKEN_BUCKETS
        if self.latest:
            self._input = _histogram(
                meter, sc.INPUT_TOKENS_LATEST, "{token}", "Input tokens per operation.", tokens
            )
            self._output = _histogram(
                meter, sc.OUTPUT_TOKENS_LATEST, "{token}", "Output tokens per operation.", tokens
            )
        else:
            self._tokens = _histogram(
                meter, sc.TOKEN_USAGE, "{token}", "Number of input and output tokens used.", tokens
            )

    # -- hooks -----------------------------------------------------------------------------
    def on_start(self, call: CallInfo) -> None:
        attrs = sc.span_request_attributes(call)
        if self.capture:
            attrs["gen_ai.input.messages"] = sc.input_messages(call)
            system = sc.system_instructions(call)
            if system is not None:
                attrs["gen_ai.system_instructions"] = system
        name = f"{sc.OPERATION} {call.model}" if call.model else sc.OPERATION
        span = self._tracer.start_span(name, kind=SpanKind.CLIENT, attributes=attrs)
        call.state[self] = _Live(span, sc.request_attributes(call))

    def on_retry(self, call: CallInfo, attempt: int, error: KairosError, wait: float) -> None:
        live: _Live | None = call.state.get(self)
        if live is not None:
            event = {"kairos.attempt": attempt, "error.type": type(error).__name__}
            live.span.add_event("kairos.retry", {**event, "kairos.retry.wait": wait})

    def on_chunk(self, call: CallInfo, chunk: StreamChunk, at: float) -> None:
        live: _Live | None = call.state.get(self)
        if live is not None:
            if live.last is not None:
                live.gaps.append(at - live.last)
            live.last = at

    def on_end(self, call: CallInfo, end: CallEnd) -> None:
        live: _Live | None = call.state.pop(self, None)
        if live is None:
            return
        span = live.span
        try:
            span.set_attributes(sc.end_attributes(end))
            if self.capture and end.response is not None:
                output = sc.output_messages(end.response, end.finish_reason)
                span.set_attribute("gen_ai.output.messages", output)
            if end.error is not None:
                span.set_status(Status(StatusCode.ERROR, str(end.error)))
            self._record(live, end)
        finally:
            span.end()

    # -- metrics ---------------------------------------------------------------------------
    def _record(self, live: _Live, end: CallEnd) -> None:
        attrs = live.attrs
        if end.response_model:
            attrs = {**attrs, "gen_ai.response.model": end.response_model}
        kind = sc.error_type(end.error)
        failed = attrs if kind is None else {**attrs, "error.type": kind}
        self._duration.record(end.stats.total_time, failed)
        if end.stats.time_to_first_chunk is not None:
            self._ttfc.record(end.stats.time_to_first_chunk, attrs)
        record = self._tpoc.record
        for gap in live.gaps:
            record(gap, attrs)
        usage = end.usage
        if self.latest:  # every operation, failed ones too: 0 when no usage arrived
            self._input.record(usage.prompt_tokens if usage else 0, failed)
            self._output.record(usage.completion_tokens if usage else 0, failed)
        elif usage is not None:
            self._tokens.record(usage.prompt_tokens, {**attrs, "gen_ai.token.type": "input"})
            self._tokens.record(usage.completion_tokens, {**attrs, "gen_ai.token.type": "output"})
