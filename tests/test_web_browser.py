"""`kairos web` in a real browser: headless Chromium (Debian's package) driven by Playwright.

`kairos web` runs as a subprocess, pointed with `--provider openai-compatible --base-url` at a
loopback upstream that answers in OpenAI's real wire format (replies rendered by
kairos.testing) and records when a client hangs up. The page is used as a person would: type
in the only textarea, press Send / Stop, read the `data-role="assistant"` replies.

One test runs `kairos web` with no key at all, on the offline default (the embedded emulator),
as a person trying it first would.

`make test` installs chromium with apt when it runs as root; elsewhere this module skips, with
the reason, and warns. Playwright drives the system chromium (`executable_path`): its own
browser download is never used."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from typing import Any

import pytest

from kairos.testing import Call, Fail, Pause, Reply, Text, render_stream
from loopback import LoopbackServer, Seen, endless
from loopback import Reply as Raw
from procs import interrupt, offline_env, read_until
from web_support import chunk

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")  # as the Makefile's CHROMIUM
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT = 10.0  # upper bound on any wait in this file (seconds)
GAP = 0.01  # the endless upstream sends a piece every GAP seconds
BOUND = 0.1 + 2 * GAP  # it notices a hang-up on its next write (or the one after)
WORDS = "One two three four five six seven eight nine ten eleven twelve thirteen fourteen."
ERROR = "the emulated model is overloaded"
# a 1x1 PNG
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def _browser_or_skip() -> Any:
    if not os.path.exists(CHROMIUM):
        if os.geteuid() == 0 and shutil.which("apt-get"):
            pytest.fail(f"{CHROMIUM} is missing: run `make test`, which installs it with apt")
        reason = f"{CHROMIUM} is missing and cannot be installed here (needs root and apt-get)"
        warnings.warn(f"SKIPPED the browser test: {reason}", stacklevel=2)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright  # the test extra

    return sync_playwright


def upstream_reply(seen: Seen) -> Raw:
    content = seen.json()["messages"][-1]["content"]
    prompt = content
    if isinstance(content, list):  # text and image parts: say what the model was shown
        texts = [p.get("text", "") for p in content if p.get("type") == "text"]
        images = [p["image_url"]["url"][:22] for p in content if p.get("type") == "image_url"]
        prompt = " ".join(texts) + "".join(f" [{i}]" for i in images)
    if "forever" in prompt:
        return Raw(pieces=endless(chunk("x "), GAP, 8.0))
    if "fail" in prompt:
        reply = Reply([Text("Partial "), Pause(0.2), Text("answer"), Fail("overloaded", ERROR)])
    elif "stream" in prompt:
        call = Call("get_weather", {"city": "Paris"}, id="call_1")
        reply = Reply.text(WORDS, reasoning="Counting slowly.", calls=[call], chunk_delay=0.08)
    else:
        reply = Reply.text(f"Echo: {prompt}")
    return Raw(pieces=list(render_stream(reply, "openai", "m")))


def _read_url(proc: subprocess.Popen[bytes]) -> str:
    text = read_until(proc, b"press Ctrl-C", WAIT)
    assert "press Ctrl-C" in text, text
    return text.split("chat at ", 1)[1].split()[0]


@pytest.fixture(scope="module")
def upstream() -> Iterator[LoopbackServer]:
    with LoopbackServer(upstream_reply) as server:
        yield server


@pytest.fixture(scope="module")
def web(upstream: LoopbackServer) -> Iterator[str]:
    args = ["--provider", "openai-compatible", "--base-url", upstream.url + "/v1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "kairos", "web", *args, "--model", "m"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        yield _read_url(proc)
    finally:
        code, err = interrupt(proc, WAIT)
    assert code == 0, err
    assert "Traceback" not in err, err


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    sync_playwright = _browser_or_skip()
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=FLAGS
        )
        try:
            yield context
        finally:
            context.close()


@pytest.fixture
def page(browser: Any, web: str) -> Iterator[Any]:
    page = browser.new_page()
    page.goto(web)
    try:
        yield page
    finally:
        page.close()


def ask(page: Any, prompt: str) -> Any:
    """Type ``prompt`` and press Send; the new assistant reply's locator."""
    replies = page.locator('[data-role="assistant"]')
    before = replies.count()
    page.locator("textarea").fill(prompt)
    page.get_by_role("button", name="Send").click()
    page.wait_for_function(
        f"document.querySelectorAll('[data-role=\"assistant\"]').length > {before}",
        timeout=WAIT * 1000,
    )
    return replies.nth(before)


def reply_text(reply: Any) -> str:
    return str(
        reply.evaluate(
            "r => [...r.querySelectorAll('[data-part=text]')].map(n => n.textContent).join('')"
        )
    )


def test_the_page_is_found_by_role_and_has_one_textarea(page: Any) -> None:
    assert page.locator("textarea").count() == 1
    assert page.get_by_role("button", name="Send").is_enabled()
    assert page.get_by_role("button", name="Stop").is_disabled()


def test_reply_grows_while_streaming_with_reasoning_tool_call_and_stats(page: Any) -> None:
    reply = ask(page, "stream please")
    samples: list[str] = []
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        samples.append(reply_text(reply))
        if reply.locator("[data-part=meta]").count():
            break
        time.sleep(0.04)
    final = reply_text(reply)
    assert final == WORDS
    growing = [s for s in dict.fromkeys(samples) if s and s != final]
    assert len(growing) >= 3, f"the text did not grow while streaming: {samples}"
    assert all(WORDS.startswith(s) for s in growing)
    assert [len(s) for s in growing] == sorted(len(s) for s in growing)

    reasoning = reply.locator("details[data-part=reasoning]")
    assert reasoning.count() == 1 and "Counting slowly." in reasoning.text_content()
    tool = reply.locator("[data-part=tool]")
    assert "get_weather" in tool.text_content() and '"Paris"' in tool.text_content()
    meta = reply.locator("[data-part=meta]").text_content()
    assert "TTFT" in meta and "tokens" in meta and "chunks" in meta
    assert page.get_by_role("button", name="Send").is_enabled()


def test_stop_closes_the_upstream_stream(page: Any, upstream: LoopbackServer) -> None:
    upstream.disconnected.clear()
    reply = ask(page, "go on forever")
    page.wait_for_function(
        "r => r.querySelector('[data-part=text]') && "
        "r.querySelector('[data-part=text]').textContent.length > 10",
        arg=reply.element_handle(),
        timeout=WAIT * 1000,
    )
    stop = page.get_by_role("button", name="Stop")
    assert stop.is_enabled()
    stop.click()
    stopped_at = time.monotonic()
    assert upstream.disconnected.wait(WAIT), "the upstream never saw the stream close"
    elapsed = time.monotonic() - stopped_at
    assert elapsed < BOUND, f"the upstream closed {elapsed * 1000:.0f} ms after Stop"
    reply.locator("[data-part=stopped]").wait_for(timeout=WAIT * 1000)
    assert page.get_by_role("button", name="Stop").is_disabled()
    assert page.get_by_role("button", name="Send").is_enabled()


def test_mid_stream_error_shows_the_one_line_message(page: Any) -> None:
    reply = ask(page, "please fail")
    error = reply.locator("[data-part=error]")
    error.wait_for(timeout=WAIT * 1000)
    message = error.text_content()
    assert ERROR in message and "\n" not in message and "Traceback" not in message
    assert reply_text(reply) == "Partial answer"


def test_an_attached_image_reaches_the_model(page: Any) -> None:
    page.locator("input[type=file]").set_input_files(
        {"name": "dot.png", "mimeType": "image/png", "buffer": PNG}
    )
    page.locator("ul#attachments img").wait_for(timeout=WAIT * 1000)
    reply = ask(page, "what is in this picture?")
    reply.locator("[data-part=meta]").wait_for(timeout=WAIT * 1000)
    # the upstream received the image as an OpenAI image_url part with the PNG's data URL
    assert reply_text(reply) == "Echo: what is in this picture? [data:image/png;base64,]"


def test_an_attachment_no_model_takes_is_refused_clearly_and_the_chat_goes_on(page: Any) -> None:
    page.locator("input[type=file]").set_input_files(
        {"name": "notes.zip", "mimeType": "application/zip", "buffer": b"PK\x03\x04"}
    )
    reply = ask(page, "what is in this archive?")
    error = reply.locator("[data-part=error]")
    error.wait_for(timeout=WAIT * 1000)
    assert "notes.zip" in error.text_content()
    assert "images, PDF, text and audio only" in error.text_content()
    page.wait_for_function("!document.querySelector('#send').disabled", timeout=WAIT * 1000)
    after = ask(page, "hello again")
    after.locator("[data-part=meta]").wait_for(timeout=WAIT * 1000)
    assert reply_text(after) == "Echo: hello again"
    assert json.dumps(reply_text(after))  # plain text, no markup


def test_with_no_key_the_offline_default_streams_into_the_page(browser: Any) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "kairos", "web"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=offline_env(),
    )
    try:
        url = _read_url(proc)
        page = browser.new_page()
        try:
            page.goto(url)
            reply = ask(page, "hello")
            samples: list[str] = []
            deadline = time.monotonic() + WAIT
            while time.monotonic() < deadline and not reply.locator("[data-part=meta]").count():
                samples.append(reply_text(reply))
                time.sleep(0.03)
            final = reply_text(reply)
        finally:
            page.close()
    finally:
        code, err = interrupt(proc, WAIT)
    assert code == 0 and "Traceback" not in err, err
    assert "[offline demo: scripted reply, not a model]" in final
    growing = [t for t in dict.fromkeys(samples) if t and t != final]
    assert len(growing) >= 3, f"the text did not grow while streaming: {samples}"
    assert all(final.startswith(t) for t in growing)
