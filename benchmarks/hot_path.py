"""The pure hot path, before/after: one text-only stream's bytes through the stream machine
(framing, the codec's parser, the accumulator, the chunks), no sockets.

    python benchmarks/hot_path.py --before /path/to/old/src --after src [--rounds 7]

Each round runs every wire once per tree in a fresh process (A B A B ...), one ``feed`` per
event as a server writing one HTTP chunk per event would cause, and reports the minimum CPU
time per chunk over the rounds (the least disturbed run: the machine may be shared). The bodies
are built here, the same for both trees. Run by hand, never by the test suite.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

N = 20000
WIRES = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "responses": "openai-responses",
}


def _responses(words: list[str]) -> list[bytes]:
    """A Responses text stream as OpenAI sends it: named events, one message item."""
    seq = iter(range(len(words) + 16))

    def ev(kind: str, **fields: Any) -> bytes:
        obj = {"type": kind, "sequence_number": next(seq), **fields}
        return f"event: {kind}\ndata: {json.dumps(obj)}\n\n".encode()

    item = {"id": "msg_1", "type": "message", "status": "in_progress", "content": []}
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": ""}
    at = {"item_id": "msg_1", "output_index": 0, "content_index": 0}
    out = [ev("response.created", response={"id": "r", "model": "m", "output": []})]
    out.append(ev("response.output_item.added", output_index=0, item={**item, "role": "assistant"}))
    out.append(ev("response.content_part.added", **at, part=part))
    out += [ev("response.output_text.delta", **at, delta=w, logprobs=[]) for w in words]
    text = "".join(words)
    done = {**item, "status": "completed", "content": [{**part, "text": text}]}
    out.append(ev("response.output_text.done", **at, text=text, logprobs=[]))
    out.append(ev("response.content_part.done", **at, part={**part, "text": text}))
    out.append(ev("response.output_item.done", output_index=0, item=done))
    usage = {"input_tokens": 1, "output_tokens": len(words), "total_tokens": len(words) + 1}
    end = {"id": "r", "model": "m", "status": "completed", "output": [done], "usage": usage}
    return [*out, ev("response.completed", response=end)]


def _events(fmt: str, n: int) -> list[bytes]:
    words = [f" w{i}" for i in range(n)]
    if fmt == "openai":
        head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
        out = [
            b"data: "
            + json.dumps({**head, "choices": [{"index": 0, "delta": {"content": w}}]}).encode()
            + b"\n\n"
            for w in words
        ]
        end = {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        return [*out, b"data: " + json.dumps(end).encode() + b"\n\n", b"data: [DONE]\n\n"]
    if fmt == "anthropic":
        start = {"type": "message_start", "message": {"model": "m", "usage": {"input_tokens": 1}}}
        block = {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        }
        out = [b"event: message_start\ndata: " + json.dumps(start).encode() + b"\n\n"]
        out.append(b"event: content_block_start\ndata: " + json.dumps(block).encode() + b"\n\n")
        for w in words:
            d = {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": w},
            }
            out.append(b"event: content_block_delta\ndata: " + json.dumps(d).encode() + b"\n\n")
        stop = {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn"},
            "usage": {"output_tokens": n},
        }
        out.append(b"event: message_delta\ndata: " + json.dumps(stop).encode() + b"\n\n")
        return [*out, b'event: message_stop\ndata: {"type": "message_stop"}\n\n']
    if fmt == "responses":
        return _responses(words)
    if fmt == "gemini":
        usage = {"promptTokenCount": 1, "candidatesTokenCount": 1, "totalTokenCount": 2}
        out = []
        for i, w in enumerate(words):
            cand: dict[str, Any] = {
                "content": {"parts": [{"text": w}], "role": "model"},
                "index": 0,
            }
            if i == n - 1:
                cand["finishReason"] = "STOP"
            obj = {"candidates": [cand], "usageMetadata": usage, "modelVersion": "m"}
            out.append(b"data: " + json.dumps(obj).encode() + b"\r\n\r\n")
        return out
    lines = [
        json.dumps(
            {"model": "m", "message": {"role": "assistant", "content": w}, "done": False}
        ).encode()
        + b"\n"
        for w in words
    ]
    done = {
        "model": "m",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
    }
    return [*lines, json.dumps(done).encode() + b"\n"]


def child(fmt: str) -> None:
    import time

    from kairos._machine import StreamMachine
    from kairos._options import Timeouts
    from kairos.providers import make_codec

    codec = make_codec(WIRES[fmt], api_key="k", base_url="http://x", model="m")
    events = _events(fmt, N)
    machine = StreamMachine(codec, Timeouts(), time.monotonic(), 1 << 25)
    feed = machine.feed
    chunks = 0
    t0 = time.process_time()
    for ev in events:
        chunks += len(feed(ev))
    spent = time.process_time() - t0
    assert machine.done and chunks == N + 1, (fmt, chunks)
    print(json.dumps({"fmt": fmt, "us": spent / chunks * 1e6}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--wires", default=",".join(WIRES), help="a subset, for trees without some")
    args = ap.parse_args()
    wires = [w for w in args.wires.split(",") if w]
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for label, src in (("before", args.before), ("after", args.after)):
            env = {**os.environ, "PYTHONPATH": str(Path(src).resolve())}
            for fmt in wires:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", fmt], env=env, check=True,
                    capture_output=True, text=True,
                )  # fmt: skip
                us = json.loads(out.stdout)["us"]
                key = (fmt, label)
                best[key] = min(best.get(key, us), us)
    print(
        "| wire (text only, one event per read) | before us/chunk | after us/chunk | after/before |"
    )
    print("|---|---|---|---|")
    for fmt in wires:
        b, a = best[(fmt, "before")], best[(fmt, "after")]
        print(f"| {fmt} | {b:.2f} | {a:.2f} | {a / b:.2f}x |")
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
        sys.exit(0)
    sys.exit(main())
