"""The Ray engine on a local Ray instance: the same outputs as the local engine, and the same
resume semantics (done ids are not asked for again)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import kairos.batch
from batch_server import Action, BatchServer

ray = pytest.importorskip("ray")  # the test extra installs it; plain installs may not have it

N = 40


def behave(prompt: str, attempt: int) -> Action:
    kind = prompt.split()[0]
    if kind == "r429" and attempt == 1:
        return ("status", 429, 0.1)
    if kind == "reset" and attempt == 1:
        return ("reset",)
    if kind == "mid":
        return ("fail_mid", "server")
    return ("ok", f"answer to {prompt}")


def _input(path: Path) -> None:
    kinds = ("ok", "r429", "reset", "mid", "ok")
    lines = [json.dumps({"id": i, "prompt": f"{kinds[i % 5]} {i}"}) for i in range(N)]
    lines[7] = '{"id": 7, "prompt": "x", "max_tokens": -1}'  # a bad line
    path.write_text("\n".join(lines) + "\n")


def _comparable(path: Path) -> list[str]:
    out = []
    for raw in path.read_text().splitlines():
        line = json.loads(raw)
        assert set(line["stats"]) == {"ttft_ms", "total_ms", "attempts"}
        line["stats"] = line["stats"]["attempts"]  # timings differ run to run
        out.append(json.dumps(line, sort_keys=True))
    return sorted(out)


def test_ray_engine_matches_the_local_engine_and_resumes(tmp_path: Path) -> None:
    """One Ray run (Ray's start-up dominates): resume an output whose first half the local
    engine wrote; the result must equal the local engine's whole output."""
    src = tmp_path / "in.jsonl"
    _input(src)
    local, on_ray = tmp_path / "local.jsonl", tmp_path / "ray.jsonl"
    kw: dict[str, Any] = {"provider": "openai", "api_key": "k", "concurrency": 4}
    with BatchServer(behave) as srv:
        kairos.batch.run(src, local, base_url=srv.url, **kw)
        asked_local = dict(srv.count)
    half = local.read_text().splitlines(keepends=True)[: N // 2]
    on_ray.write_text("".join(half))
    done = {json.loads(x)["id"] for x in half} - {None}
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    try:
        with BatchServer(behave) as srv:
            summary = kairos.batch.run(
                src, on_ray, base_url=srv.url, engine="ray", resume=True, **kw
            )
            asked_ray = dict(srv.count)
        with BatchServer(behave) as srv:  # ChatMapper sharing one limiter actor
            mapper = kairos.batch.ChatMapper(
                "openai",
                base_url=srv.url,
                api_key="k",
                limiter=kairos.batch.ray_limiter(concurrency=2, rpm=6000),
            )
            try:
                mapped = mapper({"id": [1, 2, 3], "prompt": ["ok 1", "r429 2", "mid 3"]})
            finally:
                mapper.close()
    finally:
        ray.shutdown()
    assert _comparable(on_ray) == _comparable(local)
    # the ids not done yet were asked for exactly as often as by the local engine, no others
    assert asked_ray == {p: n for p, n in asked_local.items() if int(p.split()[1]) not in done}
    assert summary.skipped == len(done) and summary.done == N - len(done)
    assert mapped["content"][:2] == ["answer to ok 1", "answer to r429 2"]
    assert [e and e["type"] for e in mapped["error"]] == [None, None, "ServerError"]
    assert [s["attempts"] for s in mapped["stats"]] == [1, 2, 1]
