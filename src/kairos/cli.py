"""The ``kairos`` command line, built on the public API only.

``kairos stream [PROMPT]`` streams one reply and prints it as it arrives, then the stream's
stats (the shape of the Go original's example 18), or one JSON object with ``--json``.
Exit codes: 0 success, 1 the provider or the stream failed, 2 bad usage or configuration,
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO
from urllib.parse import urlsplit

import kairos
from kairos import _batch_cli, _serve_cli
from kairos.providers import PRESETS

DEFAULT_PROMPT = "Escribe un poema corto (4 versos) sobre la programación en Go."
AUTO_ORDER = ("openai", "anthropic", "gemini", "qwen", "groq", "deepseek", "openrouter")
OFFLINE = "offline"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kairos", description="Streaming-first LLM client.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser(
        "stream",
        help="stream one reply",
        description=(
            "Stream one reply and print it as it arrives. Without --provider, kairos picks the "
            "first provider whose API key is set ("
            + ", ".join(AUTO_ORDER)
            + "), then a reachable local Ollama, else the embedded offline demo."
        ),
    )
    s.add_argument("prompt", nargs="?", default=DEFAULT_PROMPT, help="the user message")
    s.add_argument("--provider", choices=[*PRESETS, OFFLINE], help="provider preset name")
    s.add_argument("--model", help="model name (default: the provider's default model)")
    s.add_argument(
        "--base-url",
        help="server base URL, as the provider's official SDK expects it "
        "(OpenAI-style: http://host/v1; Anthropic/Gemini: http://host; Ollama: http://host:11434)",
    )
    s.add_argument("--system", help="a system prompt")
    s.add_argument("--temperature", type=float)
    s.add_argument("--max-tokens", type=int)
    s.add_argument(
        "--timeout", type=float, help="seconds to wait for the first chunk and between chunks"
    )
    s.add_argument("--json", action="store_true", help="print one JSON object at the end")
    sub.add_parser("providers", help="list provider presets and their environment variables")
    _serve_cli.add_parser(sub)
    _batch_cli.add_parser(sub)
    return p


@dataclass
class _Tally:
    started: float = field(default_factory=time.monotonic)
    chunks: int = 0
    first: float | None = None
    content: list[str] = field(default_factory=list)
    reasoning: list[str] = field(default_factory=list)
    final: kairos.StreamChunk | None = None

    def add(self, chunk: kairos.StreamChunk) -> None:
        self.chunks += 1
        if self.first is None and not chunk.done:
            self.first = time.monotonic()
        self.content.append(chunk.content)
        self.reasoning.append(chunk.reasoning)
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


def _ollama_reachable(env: Mapping[str, str]) -> bool:
    host = env.get("OLLAMA_HOST") or PRESETS["ollama"].base_url
    parts = urlsplit(host if "://" in host else f"http://{host}")
    try:
        with socket.create_connection((parts.hostname or "localhost", parts.port or 11434), 0.3):
            return True
    except OSError:
        return False


def pick_provider(args: argparse.Namespace, env: Mapping[str, str]) -> tuple[str, str]:
    """The provider to use and why (shown to the user)."""
    if args.provider:
        return args.provider, "chosen with --provider"
    if args.base_url:
        return "openai-compatible", "--base-url given without --provider"
    for name in AUTO_ORDER:
        for var in PRESETS[name].key_env:
            if env.get(var):
                return name, f"{var} is set"
    if _ollama_reachable(env):
        return "ollama", "a local Ollama answered"
    return OFFLINE, "no API key set and no local Ollama: embedded offline demo"


@contextlib.contextmanager
def _open_provider(name: str, args: argparse.Namespace) -> Iterator[kairos.HTTPProvider]:
    timeout = kairos.Timeouts(first_chunk=args.timeout, idle=args.timeout) if args.timeout else None
    if name == OFFLINE:
        from kairos.providers._offline import DEMO_MODEL, OfflineServer

        with (
            OfflineServer() as server,
            kairos.provider(
                "openai-compatible",
                base_url=server.base_url,
                model=args.model or DEMO_MODEL,
                timeout=timeout,
            ) as p,
        ):
            yield p
        return
    with kairos.provider(name, model=args.model, base_url=args.base_url, timeout=timeout) as p:
        yield p


def _request(args: argparse.Namespace) -> kairos.ChatRequest:
    messages = [kairos.Message.system(args.system)] if args.system else []
    messages.append(kairos.Message.user(args.prompt))
    return kairos.ChatRequest(messages, temperature=args.temperature, max_tokens=args.max_tokens)


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
    if final is not None and final.tool_calls:
        print("  Tool calls:", file=out)
        for call in final.tool_calls:
            print(f"    {call.name}({call.arguments})  id={call.id}", file=out)
    usage = final.usage if final is not None else None
    if usage is not None:
        print("  Token usage:", file=out)
        print(f"    Prompt:     {usage.prompt_tokens}", file=out)
        print(f"    Completion: {usage.completion_tokens}", file=out)
        print(f"    Total:      {usage.total_tokens}", file=out)


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
            return
        if not args.json and chunk.content:
            out.write(chunk.content)
            out.flush()


def _stream(args: argparse.Namespace, env: Mapping[str, str]) -> int:
    name, why = pick_provider(args, env)
    out = sys.stdout
    t = _Tally()
    error: BaseException | None = None
    interrupted = False
    with contextlib.ExitStack() as stack:
        try:
            provider = stack.enter_context(_open_provider(name, args))
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


def _providers() -> int:
    for p in PRESETS.values():
        keys = " or ".join(p.key_env) or "-"
        req = "" if p.key_required else " (optional)"
        print(f"{p.name:18} {keys}{req:11} {p.base_url or '(base URL required)'}  {p.note}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "providers":
            return _providers()
        if args.command == "serve":
            return _serve_cli.run(args)
        if args.command == "batch":
            return _batch_cli.run(args)
        return _stream(args, os.environ)
    except kairos.ConfigurationError as exc:
        print(f"kairos: error: {exc}", file=sys.stderr)
        return 2
    except kairos.KairosError as exc:
        print(f"kairos: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("kairos: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
