"""kairos.otel: the GenAI spans and metrics, read back with the OpenTelemetry SDK's in-memory
span exporter and metric reader, for success, a mid-stream error, cancellation (every way a
stream can stop, sync and async) and a retry, over a real loopback HTTP server."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("opentelemetry.sdk", reason="the test extra installs opentelemetry-sdk")

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

import kairos
import kairos.otel
from kairos.testing import ScriptedProvider
from observe_support import (
    ASYNC_WAYS,
    KEY,
    MODEL,
    REQ,
    RESPONSE_ID,
    RESPONSE_MODEL,
    SYNC_WAYS,
    WORDS,
    allm,
    broken_reply,
    llm,
    ok_reply,
    rate_limited,
    serving,
    slow_reply,
    stop_async,
    stop_sync,
    wait_for,
)


class Telemetry:
    def __init__(self) -> None:
        self.spans = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader()
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def instrument(self) -> None:
        kairos.otel.instrument(self.tracer_provider, self.meter_provider)

    def finished(self) -> list[ReadableSpan]:
        return list(self.spans.get_finished_spans())

    def span(self) -> ReadableSpan:
        (span,) = self.finished()
        return span

    def metrics(self) -> dict[str, list[Any]]:
        """Metric name -> its data points."""
        out: dict[str, list[Any]] = {}
        data = self.reader.get_metrics_data()
        for rm in data.resource_metrics if data else ():
            for sm in rm.scope_metrics:
                for m in sm.metrics:
                    out[m.name] = list(m.data.data_points)
        return out


@pytest.fixture
def otel(monkeypatch: pytest.MonkeyPatch) -> Iterator[Telemetry]:
    monkeypatch.delenv("OTEL_SEMCONV_STABILITY_OPT_IN", raising=False)
    monkeypatch.delenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", raising=False)
    kairos.observers.clear()
    t = Telemetry()
    t.instrument()
    yield t
    kairos.otel.uninstrument()
    kairos.observers.clear()


BASE = {"gen_ai.operation.name": "chat", "gen_ai.request.model": MODEL}


def _server_of(span: ReadableSpan) -> dict[str, Any]:
    attrs = span.attributes or {}
    return {"server.address": attrs["server.address"], "server.port": attrs["server.port"]}


def test_success_span_and_metrics(otel: Telemetry) -> None:
    with serving(ok_reply()) as srv:
        assert llm(srv).chat(REQ).content == "".join(WORDS)
        port = srv.port
    span = otel.span()
    assert span.name == f"chat {MODEL}" and span.kind is SpanKind.CLIENT
    assert span.status.status_code is StatusCode.UNSET
    attrs = dict(span.attributes or {})
    assert attrs == {
        **BASE,
        "gen_ai.provider.name": "openai-compatible",
        "gen_ai.request.max_tokens": 50,
        "gen_ai.request.temperature": 0.25,
        "gen_ai.request.top_p": 0.5,
        "gen_ai.request.stream": True,
        "server.address": "127.0.0.1",
        "server.port": port,
        "gen_ai.response.model": RESPONSE_MODEL,
        "gen_ai.response.id": RESPONSE_ID,
        "gen_ai.response.finish_reasons": ("stop",),
        "gen_ai.response.time_to_first_chunk": attrs["gen_ai.response.time_to_first_chunk"],
        "gen_ai.usage.input_tokens": 7,
        "gen_ai.usage.output_tokens": 3,
        "kairos.attempts": 1,
        "kairos.chunks": len(WORDS) + 1,
    }
    assert "gen_ai.input.messages" not in attrs  # content only when asked for
    m = otel.metrics()
    common = {
        **BASE,
        "gen_ai.provider.name": "openai-compatible",
        "gen_ai.response.model": RESPONSE_MODEL,
        **_server_of(span),
    }
    (duration,) = m["gen_ai.client.operation.duration"]
    assert dict(duration.attributes) == common and duration.count == 1
    assert duration.sum > 0 and duration.explicit_bounds[:2] == (0.01, 0.02)
    tokens = {dp.attributes["gen_ai.token.type"]: dp for dp in m["gen_ai.client.token.usage"]}
    assert (tokens["input"].sum, tokens["output"].sum) == (7, 3)
    assert dict(tokens["input"].attributes) == {**common, "gen_ai.token.type": "input"}
    (ttfc,) = m["gen_ai.client.operation.time_to_first_chunk"]
    assert ttfc.count == 1 and ttfc.sum == pytest.approx(
        attrs["gen_ai.response.time_to_first_chunk"]
    )
    assert ttfc.sum < duration.sum
    (per_chunk,) = m["gen_ai.client.operation.time_per_output_chunk"]
    assert per_chunk.count == len(WORDS) - 1 and dict(per_chunk.attributes) == common
    assert "gen_ai.client.inference.operation.input_tokens" not in m


def test_captured_content_keeps_media_and_reasoning_parts(
    monkeypatch: pytest.MonkeyPatch, otel: Telemetry
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    otel.instrument()
    png = bytes.fromhex("89504e470d0a1a0a") + b"\0" * 8
    big = kairos.Image.from_bytes(png + b"\0" * (70 * 1024), "image/png")
    user = kairos.Message.user(
        "What is this?",
        kairos.Image.from_bytes(png, "image/png"),
        kairos.Image.from_url("https://example.com/a.jpg"),
        big,
    )
    with serving(ok_reply()) as srv:
        llm(srv).chat(kairos.ChatRequest([user], model="m"))
    attrs = otel.span().attributes or {}
    (message,) = json.loads(str(attrs["gen_ai.input.messages"]))
    text, small, remote, large = message["parts"]
    assert text == {"type": "text", "content": "What is this?"}
    assert small["type"] == "blob" and small["modality"] == "image"
    assert base64.b64decode(small["content"]) == png and small["mime_type"] == "image/png"
    assert remote == {
        "type": "uri",
        "uri": "https://example.com/a.jpg",
        "modality": "image",
        "mime_type": "image/jpeg",
    }
    assert large == {
        "type": "blob",
        "size": len(png) + 70 * 1024,
        "modality": "image",
        "mime_type": "image/png",
    }


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_mid_stream_error(otel: Telemetry, mode: str) -> None:
    with serving(broken_reply()) as srv, pytest.raises(kairos.StreamInterrupted) as raised:
        if mode == "sync":
            llm(srv).chat(REQ)
        else:
            asyncio.run(allm(srv).chat(REQ))
    span = otel.span()
    attrs = span.attributes or {}
    assert attrs["error.type"] == "StreamInterrupted"
    assert attrs["gen_ai.response.finish_reasons"] == ("error",)
    assert attrs["kairos.chunks"] == 3  # two chunks, then the final one
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == str(raised.value)  # the one-line message
    m = otel.metrics()
    (duration,) = m["gen_ai.client.operation.duration"]
    assert duration.attributes["error.type"] == "StreamInterrupted"
    assert "gen_ai.client.token.usage" not in m  # no usage arrived: nothing counted
    assert m["gen_ai.client.operation.time_to_first_chunk"][0].count == 1


@pytest.mark.parametrize("way", SYNC_WAYS)
def test_cancellation_sync(otel: Telemetry, way: str) -> None:
    with serving(slow_reply()) as srv:
        stop_sync(way, llm(srv))
        assert wait_for(lambda: len(otel.finished()) == 1), "the span did not end"
    _check_cancelled(otel)


@pytest.mark.parametrize("way", ASYNC_WAYS)
def test_cancellation_async(otel: Telemetry, way: str) -> None:
    with serving(slow_reply()) as srv:
        asyncio.run(stop_async(way, allm(srv)))
        assert wait_for(lambda: len(otel.finished()) == 1), "the span did not end"
    _check_cancelled(otel)


def _check_cancelled(otel: Telemetry) -> None:
    span = otel.span()
    attrs = span.attributes or {}
    assert attrs["error.type"] == "Cancelled"
    assert attrs["gen_ai.response.finish_reasons"] == ("cancelled",)
    assert span.status.status_code is StatusCode.ERROR
    (duration,) = otel.metrics()["gen_ai.client.operation.duration"]
    assert duration.attributes["error.type"] == "Cancelled"


def test_retry_is_one_span_with_an_event(otel: Telemetry) -> None:
    with serving(rate_limited(), ok_reply()) as srv:
        llm(srv).chat(REQ)
    span = otel.span()
    assert (span.attributes or {})["kairos.attempts"] == 2
    assert "error.type" not in (span.attributes or {})
    (event,) = span.events
    assert event.name == "kairos.retry"
    assert dict(event.attributes or {}) == {
        "kairos.attempt": 1,
        "error.type": "RateLimitError",
        "kairos.retry.wait": pytest.approx(0.005),
    }
    (duration,) = otel.metrics()["gen_ai.client.operation.duration"]
    assert "error.type" not in duration.attributes and duration.count == 1


def test_error_before_the_stream(otel: Telemetry) -> None:
    with serving(*[rate_limited()] * 3) as srv, pytest.raises(kairos.RateLimitError):
        llm(srv).chat_stream(REQ)
    span = otel.span()
    attrs = span.attributes or {}
    assert attrs["error.type"] == "RateLimitError" and attrs["kairos.attempts"] == 3
    assert len(span.events) == 2 and KEY not in (span.status.description or "")
    assert "gen_ai.client.operation.time_to_first_chunk" not in otel.metrics()


def test_latest_experimental_names(monkeypatch: pytest.MonkeyPatch, otel: Telemetry) -> None:
    monkeypatch.setenv("OTEL_SEMCONV_STABILITY_OPT_IN", "http, gen_ai_latest_experimental")
    otel.instrument()  # the switch is read when instrumenting
    with serving(ok_reply(), broken_reply()) as srv:
        llm(srv).chat(REQ)
        with pytest.raises(kairos.StreamInterrupted):
            llm(srv).chat(REQ)
    m = otel.metrics()
    assert "gen_ai.client.token.usage" not in m
    inputs = m["gen_ai.client.inference.operation.input_tokens"]
    outputs = m["gen_ai.client.inference.operation.output_tokens"]
    ok = next(dp for dp in inputs if "error.type" not in dp.attributes)
    failed = next(dp for dp in outputs if "error.type" in dp.attributes)
    assert ok.sum == 7 and "gen_ai.token.type" not in ok.attributes
    assert failed.sum == 0 and failed.attributes["error.type"] == "StreamInterrupted"
    assert len(otel.finished()) == 2


def test_content_only_when_asked(monkeypatch: pytest.MonkeyPatch, otel: Telemetry) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    otel.instrument()
    with serving(ok_reply()) as srv:
        llm(srv).chat(REQ)
    attrs = otel.span().attributes or {}
    assert json.loads(str(attrs["gen_ai.system_instructions"])) == [
        {"type": "text", "content": "Be brief."}
    ]
    assert json.loads(str(attrs["gen_ai.input.messages"])) == [
        {"role": "user", "parts": [{"type": "text", "content": "Say hello"}]}
    ]
    assert json.loads(str(attrs["gen_ai.output.messages"])) == [
        {
            "role": "assistant",
            "parts": [{"type": "text", "content": "".join(WORDS)}],
            "finish_reason": "stop",
        }
    ]


@pytest.mark.parametrize(
    ("wire", "name"),
    [
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("gemini", "gcp.gemini"),
        ("openai-responses", "openai"),
        ("azure", "azure.ai.openai"),
        ("azure-responses", "azure.ai.openai"),
    ],
)
def test_provider_name_is_the_registered_value(otel: Telemetry, wire: str, name: str) -> None:
    llm_ = ScriptedProvider([kairos.testing.Reply.text("hi", calls=[])], wire=wire)
    llm_.chat(REQ)
    attrs = otel.span().attributes or {}
    assert attrs["gen_ai.provider.name"] == name
    if wire == "anthropic":
        assert str(attrs["gen_ai.response.id"]).startswith("msg_")
    assert attrs["gen_ai.usage.output_tokens"] >= 1  # type: ignore[operator]


def test_uninstrument_and_parent_span(otel: Telemetry) -> None:
    tracer = otel.tracer_provider.get_tracer("app")
    with serving(ok_reply(), ok_reply()) as srv:
        with tracer.start_as_current_span("handler") as parent:
            llm(srv).chat(REQ)
        kairos.otel.uninstrument()
        assert len(kairos.observers) == 0
        llm(srv).chat(REQ)
    spans = {s.name: s for s in otel.finished()}
    assert set(spans) == {"handler", f"chat {MODEL}"}  # nothing after uninstrument
    child = spans[f"chat {MODEL}"]
    assert child.parent is not None
    assert child.parent.span_id == parent.get_span_context().span_id


def test_without_opentelemetry_a_one_line_configuration_error() -> None:
    code = (
        "import sys; sys.modules['opentelemetry'] = None\n"  # as if the extra were missing
        "import kairos, kairos.otel\n"
        "try:\n"
        "    kairos.otel.instrument()\n"
        "except kairos.ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == (
        "kairos.otel needs opentelemetry-api: pip install 'kairos-llm[otel]'"
    )


def test_import_kairos_loads_no_hook_or_otel_module() -> None:
    code = "import sys, kairos; print(sorted(m for m in sys.modules if m.startswith('kairos')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    # only the contract: llm.py, errors.py and the message parts it is made of
    contract = "['kairos', 'kairos._content', 'kairos.errors', 'kairos.llm']"
    assert out.stdout.strip() == contract, out.stderr
