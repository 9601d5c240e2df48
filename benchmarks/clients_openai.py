"""The official ``openai`` SDK's clients for the loopback server (``openai_clients``, also used by
``clients.OpenAISDK``), and the SDK reading the Responses API's stream
(``benchmarks/requirements.txt``) the same way as the clients in ``clients.py``: ``setup``
outside the timed part, then ``stream`` / ``astream`` returning ``(chunks, text)``."""

from __future__ import annotations

from typing import Any

__all__ = ["ResponsesHelper", "ResponsesSDK", "openai_clients"]


def openai_clients(port: int, conc: int) -> tuple[Any, Any]:
    """A sync and an async ``openai`` client for the server on ``port``, ``conc`` connections."""
    import httpx
    import openai

    limits = httpx.Limits(max_connections=conc, max_keepalive_connections=conc)
    kw = {"base_url": f"http://127.0.0.1:{port}/v1", "api_key": "x", "max_retries": 0}
    sync = openai.OpenAI(http_client=httpx.Client(limits=limits), **kw)
    return sync, openai.AsyncOpenAI(http_client=httpx.AsyncClient(limits=limits), **kw)


class ResponsesSDK:
    """Raw typed events (``responses.create(stream=True)``)."""

    name = "openai-sdk-responses"
    formats = ("responses",)

    def setup(self, port: int, fmt: str, conc: int = 100) -> None:
        self.c, self.ac = openai_clients(port, conc)

    @staticmethod
    def _take(ev: Any, out: list[str]) -> None:
        if ev.type == "response.output_text.delta" and ev.delta:
            out.append(ev.delta)

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        with self.c.responses.create(model=model, input="hi", stream=True) as s:
            for ev in s:
                self._take(ev, out)
        return len(out), "".join(out)

    async def astream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        s = await self.ac.responses.create(model=model, input="hi", stream=True)
        async with s:
            async for ev in s:
                self._take(ev, out)
        return len(out), "".join(out)


class ResponsesHelper(ResponsesSDK):
    """The SDK's stream helper (``responses.stream()``), which also accumulates the response."""

    name = "openai-responses-helper"

    def stream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        with self.c.responses.stream(model=model, input="hi") as s:
            for ev in s:
                self._take(ev, out)
        return len(out), "".join(out)

    async def astream(self, model: str) -> tuple[int, str]:
        out: list[str] = []
        async with self.ac.responses.stream(model=model, input="hi") as s:
            async for ev in s:
                self._take(ev, out)
        return len(out), "".join(out)
