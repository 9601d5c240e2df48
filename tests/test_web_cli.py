"""`kairos web` as a user runs it (a subprocess): the offline default with no key, the page and
`/api/chat`, Ctrl-C (exit 0), bad options (one line, exit 2). Also runs the README's FastAPI
example of "Streaming to a browser" against the emulator, and checks the wheel ships the page."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import threading
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from kairos.serve import EmulatorServer
from loopback import LoopbackServer, endless
from loopback import Reply as Raw
from procs import interrupt, offline_env, read_until
from web_support import chunk, parse_parts, serve_app

ROOT = Path(__file__).parent.parent
BODY = {
    "id": "c",
    "messages": [{"id": "u", "role": "user", "parts": [{"type": "text", "text": "hola"}]}],
}
IMAGE = {"type": "file", "mediaType": "image/png", "filename": "cat.png", "url": "data:,"}


def _url(banner: str) -> str:
    url = re.search(r"chat at (http://127\.0\.0\.1:\d+/)", banner)
    assert url is not None, banner
    return url.group(1)


def _start(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "kairos", "web", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=offline_env(),
    )


def _banner(proc: subprocess.Popen[bytes], timeout: float = 20) -> str:
    return read_until(proc, b"press Ctrl-C", timeout)


def test_offline_default_serves_the_page_and_streams_then_stops_on_ctrl_c() -> None:
    proc = _start()
    try:
        banner = _banner(proc)
        assert "provider offline" in banner, banner
        with httpx.Client(base_url=_url(banner), timeout=20) as client:
            page = client.get("/")
            assert page.status_code == 200 and page.text.count("<textarea") == 1
            assert 'src="/static/chat.js"' in page.text and "http" not in page.text.lower().replace(
                "http-equiv", ""
            )  # nothing from a CDN
            assert (
                client.get("/static/chat.js").headers["content-type"].startswith("text/javascript")
            )
            assert client.get("/static/nope.js").status_code == 404
            assert "offline demo" in client.get("/api/info").json()["label"]
            r = client.post("/api/chat", json=BODY)
            assert r.headers["x-vercel-ai-ui-message-stream"] == "v1"
            parts = parse_parts(r.content)
            text = "".join(p["delta"] for p in parts if p["type"] == "text-delta")
            assert "[offline demo: scripted reply, not a model]" in text and "hola" in text
            assert parts[-1]["type"] == "finish" and parts[-1]["finishReason"] == "stop"
            refused = client.post(
                "/api/chat", json={"messages": [{"role": "user", "parts": [IMAGE]}]}
            )
            assert refused.status_code == 400 and "cat.png" in refused.text
    finally:
        code, err = interrupt(proc)
    assert code == 0, err
    assert "Traceback" not in err and "kairos web: stopped" in err
    assert "POST /api/chat -> 200" in err and "POST /api/chat -> 400" in err


def test_ctrl_c_ends_replies_still_streaming_with_a_reason_and_closes_upstream() -> None:
    with LoopbackServer(lambda seen: Raw(pieces=endless(chunk("x "), 0.01, 8.0))) as upstream:
        proc = _start("--provider", "openai-compatible", "--base-url", upstream.url + "/v1")
        lines: list[str] = []
        first = threading.Event()
        try:
            url = _url(_banner(proc))

            def read() -> None:
                with httpx.stream("POST", url + "api/chat", json=BODY, timeout=20) as r:
                    for line in r.iter_lines():
                        lines.append(line)
                        first.set()

            reader = threading.Thread(target=read, daemon=True)
            reader.start()
            assert first.wait(10)
        finally:
            code, err = interrupt(proc)
        reader.join(10)
        assert upstream.disconnected.wait(5)
    assert code == 0, err
    assert "Traceback" not in err
    parts = parse_parts("".join(f"{line}\n" for line in lines).encode())
    assert [p["type"] for p in parts][-3:] == ["error", "finish-step", "finish"]
    assert parts[-3]["errorText"] == "kairos web stopped"


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--port", "70000"], "port out of range"),
        (["--provider", "nope"], "invalid choice"),
        (["--bogus"], "unrecognized arguments: --bogus"),
        (["--port"], "expected one argument"),
    ],
)
def test_bad_options_are_one_line_exit_2(args: list[str], fragment: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "kairos", "web", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=offline_env(),
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith("kairos web: error:") and fragment in r.stderr


def test_a_port_in_use_is_one_line_exit_2() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "kairos", "web", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env=offline_env(),
        )
    assert r.returncode == 2
    assert r.stderr.strip().count("\n") == 0 and "cannot listen on" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_without_the_web_extra_it_says_what_to_install() -> None:
    code = (
        "import sys\n"
        "sys.modules['starlette'] = None  # as if the web extra were not installed\n"
        "from kairos.cli import main\n"
        "sys.exit(main(['web']))\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, env=offline_env()
    )
    assert r.returncode == 2
    assert r.stderr == "kairos: error: kairos web needs starlette: pip install 'kairos-llm[web]'\n"


def _readme_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("## Streaming to a browser", 1)[1].split("\n## ", 1)[0]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_fastapi_example_works(monkeypatch: Any) -> None:
    code = _readme_example()
    assert len(code.strip().splitlines()) <= 20
    script = {"replies": [{"reasoning": "Brief it is.", "text": "Hello from the emulator"}]}
    with EmulatorServer(script) as emulator:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
        monkeypatch.setenv("OPENAI_BASE_URL", emulator.base_urls["OPENAI_BASE_URL"])
        namespace: dict[str, Any] = {"__name__": "readme_example"}
        exec(compile(code, "README.md", "exec"), namespace)
        with serve_app(namespace["app"]) as url, httpx.Client(base_url=url, timeout=20) as client:
            r = client.post("/api/chat", json=BODY)
            refused = client.post(
                "/api/chat", json={"messages": [{"role": "user", "parts": [IMAGE]}]}
            )
        sent = emulator.requests[0].json()
    assert r.status_code == 200 and r.headers["x-vercel-ai-ui-message-stream"] == "v1"
    parts = parse_parts(r.content)
    assert "".join(p["delta"] for p in parts if p["type"] == "text-delta") == (
        "Hello from the emulator"
    )
    assert "".join(p["delta"] for p in parts if p["type"] == "reasoning-delta") == "Brief it is."
    assert sent["messages"] == [
        {"role": "system", "content": "Answer briefly."},
        {"role": "user", "content": "hola"},
    ]
    assert refused.status_code == 400 and "neither http(s) nor a base64 data: URL" in refused.text


def test_the_wheel_ships_the_page(tmp_path: Path) -> None:
    # hatchling comes with the test extra, so no build environment is downloaded
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("index.html", "chat.css", "chat.js"):
        assert f"kairos/web/static/{asset}" in names
