"""``kairos stream [PROMPT]``: stream one reply and print it as it arrives, then the stream's
stats (the shape of the Go original's example 18), or one JSON object with ``--json``.
``-a/--attach FILE`` (repeatable) sends files with the prompt (an image, audio, else a
document: the media type from the file's magic bytes, else its extension); ``--reasoning``
sets the one reasoning setting."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import kairos
from kairos.providers import PRESETS

from ._pick import AUTO_ORDER, OFFLINE, open_provider, pick_provider

__all__ = ["add_parser", "run"]

DEFAULT_PROMPT = "Escribe un poema corto (4 versos) sobre la programación en Go."


def add_parser(sub: Any) -> None:
    s = sub.add_parser(
        "stream",
        help="stream one reply",
        description=(
            "Stream one reply and print it as it arrives. Without --provider, kairos picks the "
            "first provider whose API key is set ("
            + ", ".join(AUTO_ORDER)
            + "), then a reachable local "
            + " or ".join(p.name for p in PRESETS.values() if p.local)
            + " server, else the embedded offline demo."
        ),
    )
    s.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT, help="the user message")
    s.add_argument("--provider", choices=[*PRESETS, OFFLINE], help="provider preset name")
    s.add_argument("--model", help="model name (default: the provider's default model)")
    s.add_argument(
        "--base-url",
        help="server base URL, as the provider's official SDK expects it (the same form as "
        "the preset's default base URL; see `kairos providers`)",
    )
    s.add_argument("--system", help="a system prompt")
    s.add_argument("--temperature", type=float)
    s.add_argument("--max-tokens", type=int)
    s.add_argument(
        "--timeout", type=float, help="seconds to wait for the first chunk and between chunks"
    )
    s.add_argument(
        "-a",
        "--attach",
        action="append",
        default=[],
        metavar="FILE",
        help="send a file with the prompt: an image, audio or a document (repeatable)",
    )
    s.add_argument(
        "--reasoning",
        choices=["low", "medium", "high"],
        help="ask the model to reason first, with this effort (mapped per provider)",
    )
    s.add_argument("--json", action="store_true", help="print one JSON object at the end")
    s.add_argument(
        "--schema",
        metavar="FILE_OR_JSON",
        help="structured output: a JSON Schema (a file, or the JSON itself); the reply is one "
        "object fitting it, printed pretty at the end (and as 'object' with --json)",
    )


@dataclass
class _Tally:
    started: float = field(default_factory=time.monotonic)
    chunks: int = 0
    first: float | None = None
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    citations: tuple[kairos.Citation, ...] = ()
    final: kairos.StreamChunk | None = None
    schema: bool = False  # structured output: --json adds "object"

    def add(self, chunk: kairos.StreamChunk) -> None:
        self.chunks += 1
        if self.first is None and not chunk.done:
            self.first = time.monotonic()
        self.content.append(chunk.content)
        self.reasoning.append(chunk.reasoning)
        self.refusal.append(chunk.refusal)
        if chunk.done:
            self.final = chunk

    def ttft(self) -> float | None:
        if self.final is not None and self.final.stats is not None:
            return self.final.stats.time_to_first_chunk
        return None if self.first is None else self.first - self.started

    def total(self) -> float:
        if self.final is not None and self.final.stats is not None:
            return self.final.stats.total_time
        return time.monotonic() - self.started


def _attachment(path: str) -> kairos.Part:
    """An image, audio clip or document, by the file's media type."""
    doc = kairos.Document.from_file(path)  # reads the file and its media type
    if doc.media_type.startswith("image/"):
        return kairos.Image(doc.media_type, doc.data)
    if doc.media_type.startswith("audio/"):
        return kairos.Audio(doc.media_type, doc.data)
    return doc


def _request(args: argparse.Namespace) -> kairos.ChatRequest:
    messages = [kairos.Message.system(args.system)] if args.system else []
    files = [_attachment(path) for path in args.attach]
    messages.append(kairos.Message.user(args.prompt, *files))
    reasoning = kairos.Reasoning(args.reasoning) if args.reasoning else None
    return kairos.ChatRequest(
        messages,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
        reasoning=reasoning,
        output_schema=schema_arg(args.schema),
    )


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds * 1000:.0f}ms" if seconds < 1 else f"{seconds:.1f}s"


def _print_stats(t: _Tally, out: TextIO, ok: bool, label: str) -> None:
    final = t.final
    content_len = sum(len(c) for c in t.content)
    print("\n---", file=out)
    print(f"{'✓' if ok else '✗'} {label}", file=out)
    print(f"  Total chunks:        {t.chunks}", file=out)
    print(f"  Time to first chunk: {_ms(t.ttft())}", file=out)
    print(f"  Total time:          {_ms(t.total())}", file=out)
    print(f"  Content length:      {content_len} chars", file=out)
    refusal = "".join(t.refusal)
    if refusal:
        print(f"  Refusal:             {refusal}", file=out)
    if t.citations:
        print("  Citations:", file=out)
        for c in t.citations:
            print(f"    {c.url}" + (f"  {c.title}" if c.title else ""), file=out)
    if final is not None and final.tool_calls:
        print("  Tool calls:", file=out)
        for call in final.tool_calls:
            print(f"    {call.name}({call.arguments})  id={call.id}", file=out)
    if final is not None and final.object is not None:
        text = json.dumps(final.object, ensure_ascii=False, indent=2, default=_plain)
        print("  Object:\n    " + text.replace("\n", "\n    "), file=out)
    usage = final.usage if final is not None else None
    if usage is not None:
        print("  Token usage:", file=out)
        print(f"    Prompt:     {usage.prompt_tokens}", file=out)
        print(f"    Completion: {usage.completion_tokens}", file=out)
        print(f"    Total:      {usage.total_tokens}", file=out)


def _plain(value: Any) -> Any:
    """An object as JSON data (a model instance through its ``model_dump``)."""
    dump = getattr(value, "model_dump", None)
    return dump(mode="json") if callable(dump) else value


def schema_arg(text: str | None) -> Any:
    """``--schema``: a file holding a JSON Schema, or the JSON itself."""
    if text is None:
        return None
    path = Path(text)
    try:
        raw = path.read_text(encoding="utf-8") if path.is_file() else text
        return json.loads(raw)
    except (OSError, ValueError) as exc:
        raise kairos.ConfigurationError(
            f"--schema: neither a readable JSON file nor JSON ({exc})"
        ) from None


def _arguments(call: kairos.ToolCall) -> Any:
    try:
        return call.parsed_arguments()
    except kairos.KairosError:
        return call.arguments


def _json_result(t: _Tally, name: str, error: BaseException | None) -> dict[str, Any]:
    final = t.final
    usage = final.usage if final is not None else None
    reasoning = "".join(t.reasoning)
    return {
        "provider": name,
        "content": "".join(t.content),
        "reasoning": reasoning or None,
        "refusal": "".join(t.refusal) or None,
        "citations": [
            {
                "url": c.url,
                "title": c.title,
                "cited_text": c.cited_text,
                "start": c.start,
                "end": c.end,
            }
            for c in t.citations
        ],
        "tool_calls": [
            {"id": c.id, "name": c.name, "arguments": _arguments(c)}
            for c in (final.tool_calls if final is not None else ())
        ],
        "usage": None
        if usage is None
        else {
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "total_tokens": usage.total_tokens,
        },
        "finish_reason": final.finish_reason if final is not None else "cancelled",
        "chunks": t.chunks,
        "ttft_ms": None if t.ttft() is None else round(t.ttft() * 1000, 1),  # type: ignore[operator]
        "total_ms": round(t.total() * 1000, 1),
        "error": None if error is None else {"type": type(error).__name__, "message": str(error)},
        **({"object": _plain(final.object) if final is not None else None} if t.schema else {}),
    }


def _header(args: argparse.Namespace, name: str, why: str, out: TextIO) -> None:
    if args.json:
        print(f"kairos: provider {name} ({why})", file=sys.stderr)
        return
    print(f"Provider: {name}" + ("" if args.provider else f"  ({why})"), file=out)
    print(f"Prompt: {args.prompt}", file=out)
    print("---", file=out)
    print("Streaming response:\n", file=out, flush=True)


def _consume(stream: kairos.Stream, t: _Tally, args: argparse.Namespace, out: TextIO) -> None:
    for chunk in stream:
        t.add(chunk)
        if chunk.error is not None:
            break
        text = chunk.content or chunk.refusal
        if not args.json and text:
            out.write(text)
            out.flush()
    t.citations = stream.response.citations


def run(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    name, why = pick_provider(args, env)
    out = sys.stdout
    t = _Tally(schema=args.schema is not None)
    error: BaseException | None = None
    interrupted = False
    with contextlib.ExitStack() as stack:
        try:
            provider = stack.enter_context(open_provider(name, args))
            _header(args, name, why, out)
            t.started = time.monotonic()
            _consume(stack.enter_context(provider.chat_stream(_request(args))), t, args, out)
            error = t.final.error if t.final is not None else None
        except KeyboardInterrupt:
            interrupted = True
            error = kairos.Cancelled("interrupted (Ctrl-C)")
    if args.json:
        print(json.dumps(_json_result(t, name, error), ensure_ascii=False), file=out)
    elif interrupted:
        _print_stats(t, out, False, "Streaming interrupted")
    else:
        _print_stats(
            t, out, error is None, "Streaming completed" if error is None else "Streaming failed"
        )
    if error is not None and not interrupted:
        print(f"kairos: error: {error}", file=sys.stderr)
    return 130 if interrupted else (1 if error is not None else 0)
