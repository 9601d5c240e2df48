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

from .._json_shapes import call_json, error_json, ms, usage_json
from ._args import Terminated, seconds, sigterm_as_interrupt, text
from ._pick import AUTO_ORDER, OFFLINE, open_provider, pick_provider

__all__ = ["add_parser", "print_json_error", "read_prompt", "run"]

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
    s.add_argument(
        "prompt",
        nargs="?",
        type=text,
        help="the user message; '-' (or no PROMPT with stdin not a terminal) reads it from stdin",
    )
    s.add_argument("--provider", choices=[*PRESETS, OFFLINE], help="provider preset name")
    s.add_argument("--model", help="model name (default: the provider's default model)")
    s.add_argument(
        "--base-url",
        help="server base URL, as the provider's official SDK expects it (the same form as "
        "the preset's default base URL; see `kairos providers`)",
    )
    s.add_argument("--system", type=text, help="a system prompt")
    s.add_argument("--temperature", type=float)
    s.add_argument("--max-tokens", type=int)
    s.add_argument(
        "--timeout", type=seconds, help="seconds to wait for the first chunk and between chunks"
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


def read_prompt(args: argparse.Namespace, stdin: TextIO | None) -> None:
    """Set ``args.prompt``: the argument; stdin for ``-``, or when there is no argument and
    stdin is not a terminal (an empty stdin then means the demo prompt); else the demo prompt.
    Sets ``args.stdin_prompt`` when it came from stdin."""
    args.stdin_prompt = False
    if args.prompt is not None and args.prompt != "-":
        return
    explicit = args.prompt == "-"
    if stdin is None or (not explicit and stdin.isatty()):
        args.prompt = DEFAULT_PROMPT
        return
    try:
        got = stdin.read().rstrip("\r\n")
    except UnicodeDecodeError:
        raise kairos.ConfigurationError("the prompt on stdin is not UTF-8 text") from None
    if not got.strip():
        if explicit:
            raise kairos.ConfigurationError("PROMPT is '-' but stdin is empty")
        args.prompt = DEFAULT_PROMPT
        return
    try:
        args.prompt = text(got)
    except argparse.ArgumentTypeError as exc:
        raise kairos.ConfigurationError(f"the prompt on stdin is {exc}") from None
    args.stdin_prompt = True


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


def _json_result(t: _Tally, name: str | None, error: BaseException | None) -> dict[str, Any]:
    """The ``--json`` object. A call that failed before its stream has null or empty values
    besides ``provider`` and ``error``."""
    final = t.final
    usage = final.usage if final is not None else None
    reasoning = "".join(t.reasoning)
    streamed = final is not None or t.chunks > 0
    if not streamed and not isinstance(error, kairos.Cancelled):
        finish = None
    else:
        finish = final.finish_reason if final is not None else "cancelled"
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
        "tool_calls": [call_json(c) for c in (final.tool_calls if final is not None else ())],
        "usage": usage_json(usage),
        "finish_reason": finish,
        "chunks": t.chunks,
        "ttft_ms": ms(t.ttft()),
        "total_ms": ms(t.total()) if streamed else None,
        "error": error_json(error),
        **({"object": _plain(final.object) if final is not None else None} if t.schema else {}),
    }


def _print_json(obj: dict[str, Any], out: TextIO) -> None:
    """One line of JSON; escaped to ASCII when stdout cannot carry the text as it is."""
    utf = (getattr(out, "encoding", "") or "").lower().replace("-", "").startswith("utf")
    print(json.dumps(obj, ensure_ascii=not utf), file=out, flush=True)


def print_json_error(error: kairos.KairosError, out: TextIO) -> None:
    """The ``--json`` object of a command that failed before it picked a provider."""
    _print_json(_json_result(_Tally(), None, error), out)


def _header(args: argparse.Namespace, name: str, why: str, out: TextIO) -> None:
    if args.json:
        return  # the object names the provider; why it was picked is said after a success
    print(f"Provider: {name}" + ("" if args.provider else f"  ({why})"), file=out)
    prompt = args.prompt
    if args.stdin_prompt:
        first = prompt.splitlines()[0] if prompt.strip() else ""
        short = first if len(first) <= 80 and first == prompt else first[:77] + "..."
        prompt = f"{short}  ({len(args.prompt)} characters from stdin)"
    print(f"Prompt: {prompt}", file=out)
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
    """Stream one reply. Exit status: 0, 1 (the provider or stream failed), 2 (configuration),
    130 (Ctrl-C) or 143 (SIGTERM); every failure is one line on stderr, and ``--json`` prints
    its object whatever happened."""
    out = sys.stdout
    t = _Tally(schema=args.schema is not None)
    name: str | None = args.provider
    why = ""
    error: BaseException | None = None
    stopped: KeyboardInterrupt | None = None
    with sigterm_as_interrupt(), contextlib.ExitStack() as stack:
        try:
            read_prompt(args, sys.stdin)
            name, why = pick_provider(args, env)
            provider = stack.enter_context(open_provider(name, args))
            _header(args, name, why, out)
            t.started = time.monotonic()
            _consume(stack.enter_context(provider.chat_stream(_request(args))), t, args, out)
            error = t.final.error if t.final is not None else None
        except kairos.KairosError as exc:  # before the stream: HTTP errors, configuration...
            error = exc
        except KeyboardInterrupt as exc:
            stopped = exc
            error = _stopped_error(exc)
    _report(args, t, name, why, error, stopped, out)
    if stopped is not None:
        return 143 if isinstance(stopped, Terminated) else 130
    if error is None:
        return 0
    return 2 if isinstance(error, kairos.ConfigurationError) else 1


def _stopped_error(exc: KeyboardInterrupt) -> kairos.Cancelled:
    if isinstance(exc, Terminated):
        return kairos.Cancelled("terminated (SIGTERM)")
    return kairos.Cancelled("interrupted (Ctrl-C)")


def _report(
    args: argparse.Namespace,
    t: _Tally,
    name: str | None,
    why: str,
    error: BaseException | None,
    stopped: KeyboardInterrupt | None,
    out: TextIO,
) -> None:
    """Stats or the JSON object on stdout, then at most one line on stderr."""
    streamed = t.final is not None or t.chunks > 0 or stopped is not None
    if args.json:
        _print_json(_json_result(t, name, error), out)
    elif stopped is not None:
        label = "terminated (SIGTERM)" if isinstance(stopped, Terminated) else "interrupted"
        _print_stats(t, out, False, f"Streaming {label}")
    elif streamed:
        ok = error is None
        _print_stats(t, out, ok, "Streaming completed" if ok else "Streaming failed")
    if stopped is not None:
        return
    if error is not None:
        picked = "" if args.provider or not why else f" [provider picked: {why}]"
        print(f"kairos: error: {error}{picked}", file=sys.stderr)
    elif args.json and not args.provider:
        print(f"kairos: provider {name} ({why})", file=sys.stderr)
