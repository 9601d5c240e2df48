"""What kairos.web adds per chunk, run by hand: `python benchmarks/web.py [--chunks N]`.

Streams one long scripted reply (kairos.testing doubles: real wire bytes through kairos' codec
and stream machine, no network) and drains it three ways: the kairos stream alone, the same
stream through `kairos.web.ui_message_stream` (async stream; sync stream read by its thread),
and the encoder alone over ready-made chunks. Then one tool call whose arguments stream in
many small pieces, at two sizes, to show the tool-delta cost stays linear. Best of 3 runs.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Callable

import kairos
import kairos.web
from kairos.testing import AsyncScriptedProvider, Call, Reply, ScriptedProvider

REQ = kairos.ChatRequest([kairos.Message.user("hi")])


def best(run: Callable[[], float], n: int = 3) -> float:
    return min(run() for _ in range(n))


def drain_web(source: kairos.web.Source) -> float:
    async def main() -> float:
        t = time.perf_counter()
        async for _ in kairos.web.ui_message_stream(source):
            pass
        return time.perf_counter() - t

    return asyncio.run(main())


def rows(reply: Reply) -> dict[str, Callable[[], float]]:
    def raw_sync() -> float:
        with ScriptedProvider([reply]) as p:
            stream = p.chat_stream(REQ)
            t = time.perf_counter()
            for _ in stream:
                pass
            return time.perf_counter() - t

    def web_sync() -> float:
        with ScriptedProvider([reply]) as p:
            return drain_web(p.chat_stream(REQ))

    def raw_async() -> float:
        async def main() -> float:
            stream = await AsyncScriptedProvider([reply]).chat_stream(REQ)
            t = time.perf_counter()
            async for _ in stream:
                pass
            return time.perf_counter() - t

        return asyncio.run(main())

    def web_async() -> float:
        async def main() -> float:
            stream = await AsyncScriptedProvider([reply]).chat_stream(REQ)
            t = time.perf_counter()
            async for _ in kairos.web.ui_message_stream(stream):
                pass
            return time.perf_counter() - t

        return asyncio.run(main())

    return {
        "kairos sync stream": raw_sync,
        "kairos.web over it (reader thread)": web_sync,
        "kairos async stream": raw_async,
        "kairos.web over it": web_async,
    }


def encoder_only(n: int) -> float:
    chunks = [kairos.StreamChunk(f"w{i} ") for i in range(n)]
    encoder = kairos.web.PartEncoder()
    t = time.perf_counter()
    for chunk in chunks:
        for part in encoder.chunk(chunk):
            kairos.web.sse(part)
    return time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=20000)
    n = parser.parse_args().chunks
    reply = Reply.text(" ".join(f"w{i}" for i in range(n)))
    print(f"text reply, {n} chunks (best of 3):")
    for name, run in rows(reply).items():
        s = best(run)
        print(f"  {name:36} {s * 1000:8.1f} ms  {s / n * 1e6:6.1f} us/chunk")
    s = best(lambda: encoder_only(n))
    print(f"  {'PartEncoder + sse only':36} {s * 1000:8.1f} ms  {s / n * 1e6:6.1f} us/chunk")
    print("one tool call, arguments in ~12-character pieces (OpenAI wire), sync:")
    for size in (100_000, 200_000, 400_000):
        call = Reply([Call("f", {"data": "x" * size}, id="c")])
        raw, web = (
            best(f, 1)
            for f in (
                rows(call)["kairos sync stream"],
                rows(call)["kairos.web over it (reader thread)"],
            )
        )
        print(
            f"  {size // 1000:4d} KB: kairos {raw * 1000:7.1f} ms, kairos.web {web * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    main()
