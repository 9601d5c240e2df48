"""The bytes of kairos.web read by the Vercel AI SDK's own client code, run with Node.

`make test` installs the `ai` npm package into .node/ when npm is present. The script posts
useChat bodies to `kairos.web.chat_app` (under Uvicorn) through the package's
DefaultChatTransport, which validates every part against `uiMessageChunkSchema`, and builds the
message with `readUIMessageStream`, the state machine behind useChat."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest

import kairos.web
from kairos.testing import (
    AsyncFunctionProvider,
    Call,
    Cite,
    Fail,
    Reasoning,
    Refusal,
    Reply,
    Text,
)
from web_support import serve_app

ROOT = Path(__file__).parent.parent
AI_HOME = ROOT / ".node"
SCRIPT = Path(__file__).parent / "web" / "ai_sdk_read.mjs"


def _skip(reason: str) -> None:
    warnings.warn(f"SKIPPED the ai SDK parser check: {reason}", stacklevel=2)
    pytest.skip(reason)


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        _skip("node is not installed")
    assert node is not None
    if not (AI_HOME / "node_modules" / "ai" / "package.json").exists():
        if shutil.which("npm"):
            pytest.fail("the ai npm package is missing from .node/: run `make test` (installs it)")
        _skip("npm is not installed, so the ai package cannot be")
    return node


def model(req: kairos.ChatRequest) -> Reply:
    prompt = req.messages[-1].content
    if prompt == "tools":
        return Reply(
            [
                Reasoning("The user wants "),
                Reasoning("the weather."),
                Text("Let me "),
                Text("check."),
                Call("get_weather", {"city": "Paris"}, id="call_1"),
            ]
        )
    if prompt == "fail":
        return Reply([Text("Partial "), Fail("overloaded", "the model is overloaded")])
    if prompt == "cite":
        return Reply([Cite("https://example.com/a", "Source A", "q"), Text("Paris.")])
    if prompt == "refuse":
        return Reply([Refusal("I can't help with that.")])
    return Reply.text(f"You said: {prompt}")


def user(text: str, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"id": "u1", "role": "user", "parts": [{"type": "text", "text": text}, *extra]}]


def test_the_ai_sdk_reads_kairos_web_streams() -> None:
    node = _node()
    image = {"type": "file", "mediaType": "image/png", "filename": "cat.png", "url": "data:,"}
    requests = [user("tools"), user("fail"), user("hello"), user("look", image)]
    requests += [user("cite"), user("refuse")]
    app = kairos.web.chat_app(AsyncFunctionProvider(model, wire="anthropic"))
    with serve_app(app) as url:
        out = subprocess.run(
            [node, str(SCRIPT), str(AI_HOME), url + "/api/chat", json.dumps(requests)],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "NO_COLOR": "1"},
        )
    assert out.returncode == 0, out.stderr
    tools, fail, hello, refused, cited, declined = json.loads(out.stdout)

    assert tools["headers"] == {"ui": "v1", "type": "text/event-stream"}
    assert tools["errors"] == []
    message = tools["message"]
    assert message["role"] == "assistant" and message["id"].startswith("msg-")
    kinds = [p["type"] for p in message["parts"]]
    assert kinds == ["step-start", "reasoning", "text", "tool-get_weather"]
    reasoning, text, tool = message["parts"][1:]
    assert reasoning["text"] == "The user wants the weather." and reasoning["state"] == "done"
    assert text["text"] == "Let me check." and text["state"] == "done"
    assert tool["toolCallId"] == "call_1" and tool["state"] == "input-available"
    assert tool["input"] == {"city": "Paris"}
    meta = message["metadata"]
    assert meta["finishReason"] == "tool_calls" and meta["chunks"] > 4
    assert meta["usage"]["outputTokens"] > 0 and meta["ttftMs"] >= 0
    assert tools["chunks"][-2:] == ["finish-step", "finish"]

    assert len(fail["errors"]) == 1
    assert "the model is overloaded" in fail["errors"][0] and "\n" not in fail["errors"][0]
    assert [p.get("text") for p in fail["message"]["parts"] if p["type"] == "text"] == ["Partial "]
    assert "error" in fail["chunks"]

    assert [p["text"] for p in hello["message"]["parts"] if p["type"] == "text"] == [
        "You said: hello"
    ]
    assert "neither http(s) nor a base64 data: URL" in refused["thrown"]  # useChat shows the 400

    assert cited["errors"] == [] and declined["errors"] == []
    sources = [p for p in cited["message"]["parts"] if p["type"] == "source-url"]
    assert [(p["url"], p.get("title")) for p in sources] == [("https://example.com/a", "Source A")]
    # an Anthropic refusal is its stop reason alone (no text): the finish says content filter
    assert declined["message"]["metadata"]["finishReason"] == "content_filter"
    assert declined["chunks"][-2:] == ["finish-step", "finish"]
