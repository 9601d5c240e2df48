"""Each chunk's ``tool_calls`` is the calls as of that chunk, however many calls a stream has.

A chunk keeps two numbers, not a copy of the calls (see ``kairos._accumulate``); these tests
check the view it builds when read against a plain reference fold, for any order of reading,
and run 10,000 parallel calls through a real loopback stream (speed and memory are measured by
``benchmarks/parallel_tools.py``, not here).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

import kairos
from kairos._accumulate import Accumulator
from kairos._codec import Delta, ToolDelta
from kairos.serve import EmulatorServer


def _reference(deltas: list[ToolDelta]) -> list[tuple[kairos.ToolCall, ...]]:
    """What every chunk's tool_calls must be: the fold re-run from scratch at each chunk."""
    out = []
    for i in range(len(deltas)):
        acc = Accumulator()
        for d in deltas[: i + 1]:
            acc.add(Delta(tools=[d]))
        out.append(acc.tool_calls())
    return out


_delta = st.builds(
    ToolDelta,
    index=st.one_of(st.none(), st.integers(0, 4)),
    id=st.one_of(st.none(), st.sampled_from(["", "a", "b", "c"])),
    name=st.one_of(st.none(), st.sampled_from(["f", "g"])),
    arguments=st.sampled_from(["", "{", '"k"', ":1", "}"]),
    data=st.one_of(st.none(), st.just({"w": {"sig": "s"}})),
)


@settings(max_examples=300, deadline=None)
@given(deltas=st.lists(_delta, min_size=1, max_size=25), order=st.randoms(use_true_random=False))
def test_every_chunk_sees_the_calls_as_of_that_chunk(deltas: list[ToolDelta], order: Any) -> None:
    acc = Accumulator()
    chunks = [acc.add(Delta(tools=[d])) for d in deltas]
    # only a piece that just sets a known call's data (a Responses call item's final status)
    # shows the caller nothing; every other piece is a chunk
    quiet = [d.data is not None and not (d.arguments or d.id or d.name) for d in deltas]
    assert all(c is not None or q for c, q in zip(chunks, quiet, strict=True))
    assert chunks[0] is not None  # the first piece always starts a call
    want = _reference(deltas)
    positions = [i for i, c in enumerate(chunks) if c is not None]
    order.shuffle(positions)
    for i in positions + positions[::-1]:  # any order, and each chunk read twice
        chunk = chunks[i]
        assert chunk is not None
        assert chunk.tool_calls == want[i], i
    assert acc.tool_calls() == want[-1]


def test_text_chunks_between_calls_see_the_calls_so_far() -> None:
    acc = Accumulator()
    a = acc.add(Delta(tools=[ToolDelta(0, "c1", "f", '{"a":')]))
    b = acc.add(Delta(content="thinking"))
    c = acc.add(Delta(tools=[ToolDelta(0, None, None, "1}"), ToolDelta(1, "c2", "g", "{}")]))
    assert a is not None and b is not None and c is not None
    assert [t.arguments for t in c.tool_calls] == ['{"a":1}', "{}"]
    assert [t.arguments for t in b.tool_calls] == ['{"a":']
    assert [t.arguments for t in a.tool_calls] == ['{"a":']


def test_ten_thousand_parallel_calls_through_a_loopback_stream() -> None:
    n = 10_000
    calls = [{"name": "get_weather", "arguments": {"city": f"c{i}"}} for i in range(n)]
    with EmulatorServer({"replies": [{"tool_calls": calls}]}) as srv:
        url = srv.base_urls["OPENAI_BASE_URL"]
        with kairos.provider("openai", base_url=url, api_key="k") as p:
            weather = kairos.Tool("get_weather")
            req = kairos.ChatRequest(
                [kairos.Message.user("everywhere")], model="m", tools=[weather]
            )
            with p.chat_stream(req) as stream:
                chunks = list(stream)
    final = chunks[-1]
    assert final.done and final.error is None and final.finish_reason == "tool_calls"
    assert len(final.tool_calls) == n
    assert final.tool_calls[-1].parsed_arguments() == {"city": f"c{n - 1}"}
    assert len({c.id for c in final.tool_calls}) == n
    # chunks read after the fact, in order: each sees the calls as of itself
    counts = [len(c.tool_calls) for c in chunks[:-1]]
    assert counts == sorted(counts) and counts[0] == 1 and counts[-1] == n
    middle = chunks[len(chunks) // 2].tool_calls
    assert 0 < len(middle) < n and middle[0] == final.tool_calls[0]
