"""API keys never appear in any text kairos surfaces, nor travel to another host.

Servers here are real loopback servers that echo the key back in every field an error has (HTTP
error bodies, headers, in-band error events), in every textual form (raw, escaped, repr'd,
URL-encoded). The wires come from the registry: each reads the fields its codec knows.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

import kairos
from kairos.providers import PRESETS, WIRES, wire_spec
from kairos.serve import EmulatorServer
from loopback import LoopbackServer, Reply, Seen

PRESET_NAMES = [wire_spec(w).preset for w in WIRES]
KEY = "sk-test/é+key?&=1234"  # Latin-1, with characters every escaping changes
FORMS = {
    "raw": KEY,
    "repr": repr(KEY)[1:-1],
    "ascii": ascii(KEY)[1:-1],
    "json": json.dumps(KEY)[1:-1],
    "url": quote(KEY, safe=""),
    "url_plus": quote_plus(KEY),
}
REQ = kairos.ChatRequest([kairos.Message.user("hi")], model="m")


def _texts(err: BaseException) -> list[str]:
    """Every text a caller can print of an error."""
    assert isinstance(err, kairos.KairosError)
    out = [str(err), repr(err), "".join(traceback.format_exception(err))]
    out += [str(err.error_type), str(err.request_id), json.dumps(err.body, default=repr)]
    return out


def _assert_clean(err: BaseException) -> None:
    for text in _texts(err):
        for name, form in FORMS.items():
            assert form not in text, f"the {name} form of the key leaked: {text[:300]}"
        assert "é+key" not in text


def _echo_body() -> dict[str, Any]:
    """An error body holding the key in every field any wire's error has."""
    message = " ".join(f"{name}={form}" for name, form in FORMS.items())
    info = {"type": KEY, "code": KEY, "status": KEY, "message": message, "param": FORMS["url"]}
    return {"type": "error", "error": info, "request_id": KEY, "detail": [FORMS["json"]]}


def _echo_headers() -> dict[str, str]:
    value = FORMS["url"]  # header values must be ASCII: the URL-encoded form
    return {"x-request-id": value, "request-id": value, "content-type": "application/json"}


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("status", [401, 400, 503])
def test_http_error_echoing_the_key_is_redacted_everywhere(preset: str, status: int) -> None:
    reply = Reply.json(status, _echo_body(), headers=_echo_headers())
    with (
        LoopbackServer(lambda seen: reply) as srv,
        kairos.provider(preset, base_url=srv.url, api_key=KEY, max_retries=0) as p,
        pytest.raises(kairos.APIStatusError) as info,
    ):
        p.chat(REQ)
    assert srv.requests  # the key went out (Latin-1 in its header) and came back
    _assert_clean(info.value)
    assert info.value.error_type is None or "[redacted]" in info.value.error_type


def _inband(framing: str) -> bytes:
    body = json.dumps(_echo_body()).encode()
    if framing == "ndjson":
        return body + b"\n"
    return b"event: error\ndata: " + body + b"\n\n"


@pytest.mark.parametrize("wire", list(WIRES))
def test_inband_error_echoing_the_key_is_redacted(wire: str) -> None:
    spec = wire_spec(wire)
    ctype = spec.stream_type
    reply = Reply(headers={"content-type": ctype}, pieces=[_inband(spec.framing)])
    chunks = []
    with (
        LoopbackServer(lambda seen: reply) as srv,
        kairos.provider(spec.preset, base_url=srv.url, api_key=KEY, max_retries=0) as p,
    ):
        with pytest.raises(kairos.KairosError) as info:
            p.chat(REQ)
        with p.chat_stream(REQ) as stream, pytest.raises(kairos.KairosError):
            for chunk in stream:
                chunks.append(chunk)
    _assert_clean(info.value)
    assert chunks[-1].error is not None
    _assert_clean(chunks[-1].error)


@pytest.mark.parametrize("preset", PRESET_NAMES)
def test_a_key_with_a_trailing_newline_is_stripped(preset: str) -> None:
    """A CRLF .env file: the key is sent without its line ending and never shows."""
    env = PRESETS[preset].base_url_env
    with EmulatorServer({"replies": [{"status": 401}]}) as srv:
        url = srv.base_urls.get(env or "", srv.url)
        with (
            kairos.provider(preset, base_url=url, api_key=KEY + "\r\n", max_retries=0) as p,
            pytest.raises(kairos.AuthenticationError) as info,
        ):
            p.chat(REQ)
        sent = srv.requests[0].headers
    carried = [v for v in sent.values() if KEY in v]
    assert carried and all(not v.endswith(("\r", "\n")) for v in carried)
    _assert_clean(info.value)
    for text in _texts(info.value):
        assert "\\r" not in text


def test_a_key_in_the_base_url_is_not_shown() -> None:
    user, password, query = "alice-user", "hunter2-password", "q-secret-value-99"

    def echo(seen: Seen) -> Reply:
        return Reply.json(404, {"error": {"message": f"no route for {seen.path}", "type": "x"}})

    with LoopbackServer(echo) as srv:
        host = srv.url.removeprefix("http://")
        url = f"http://{user}:{password}@{host}/v1?key={query}"
        with kairos.provider("openai", base_url=url, api_key="sk-the-api-key") as p:
            shown = repr(p) + repr(p.codec)
            with pytest.raises(kairos.NotFoundError) as info:
                p.chat(REQ)
    for secret in (password, query):
        assert secret not in shown
        for text in _texts(info.value):
            assert secret not in text
    assert "***" in shown and host in shown
    assert "[redacted]" in str(info.value)  # the server echoed the query: it was redacted


def test_a_pasted_password_with_a_slash_is_not_shown_by_the_error_it_causes() -> None:
    """A raw "/" in the password makes the URL unparseable (the port is then "9/..."): the
    ConfigurationError that says so shows the URL without the user info."""
    password = "sk-Ab/cd-pasted-key"
    with pytest.raises(kairos.ConfigurationError) as info:
        kairos.provider("openai", base_url=f"http://u:{password}@127.0.0.1:9/v1", api_key="x")
    assert "bad port" in str(info.value) and "http://***@127.0.0.1:9/v1" in str(info.value)
    for text in _texts(info.value):
        assert "sk-Ab" not in text and "cd-pasted-key" not in text


# -- redirects ----------------------------------------------------------------------------------
def _redirect_to(target: str) -> Any:
    def reply(seen: Seen) -> Reply:
        return Reply(307, {"location": target + seen.path, "content-length": "0"}, [])

    return reply


def _ok(seen: Seen) -> Reply:
    return Reply.json(401, {"error": {"message": "no"}})


def _key_headers(seen: Seen) -> list[str]:
    return [k for k, v in seen.headers.items() if "sk-redirect-key" in v]


@pytest.mark.parametrize("preset", PRESET_NAMES)
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_key_header_never_follows_a_redirect_to_another_host(preset: str, mode: str) -> None:
    """A caller's client with ``follow_redirects=True``: httpx drops only ``Authorization``
    on a cross-origin redirect; kairos drops whichever header carries the key."""
    key = "sk-redirect-key-0123456789"
    with LoopbackServer(_ok) as other:
        elsewhere = other.url.replace("127.0.0.1", "localhost")  # another host
        with LoopbackServer(_redirect_to(elsewhere)) as cross, _self_redirecting() as near:
            _call_following(preset, cross.url, key, mode)
            _call_following(preset, near.url, key, mode)
    assert _key_headers(cross.requests[0])  # the key went to its own host
    assert other.requests and not _key_headers(other.requests[0])  # never to another host
    moved = [r for r in near.requests if r.path.startswith("/moved")]
    assert moved and _key_headers(moved[0])  # a redirect within the same origin keeps it


def _self_redirecting() -> LoopbackServer:
    """A server that redirects each request to ``/moved/...`` on itself, then answers 401."""
    server: list[LoopbackServer] = []

    def reply(seen: Seen) -> Reply:
        if seen.path.startswith("/moved"):
            return _ok(seen)
        return _redirect_to(server[0].url + "/moved")(seen)

    server.append(LoopbackServer(reply))
    return server[0]


def _call_following(preset: str, url: str, key: str, mode: str) -> None:
    if mode == "sync":
        client = httpx.Client(follow_redirects=True)
        with (
            client,
            kairos.provider(
                preset, base_url=url, api_key=key, http_client=client, max_retries=0
            ) as p,
            pytest.raises(kairos.APIStatusError),
        ):
            p.chat(REQ)
        return

    async def main() -> None:
        client = httpx.AsyncClient(follow_redirects=True)
        async with (
            client,
            kairos.async_provider(
                preset, base_url=url, api_key=key, http_client=client, max_retries=0
            ) as p,
        ):
            with pytest.raises(kairos.APIStatusError):
                await p.chat(REQ)

    asyncio.run(main())
