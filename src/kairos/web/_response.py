"""The Starlette / FastAPI response (needs the ``web`` extra: ``pip install 'kairos-llm[web]'``).

Under a server declaring ASGI spec 2.4, Starlette's own ``StreamingResponse`` stops listening
for ``http.disconnect`` and notices a client that went away only when it next writes, so a model
thinking silently would keep its provider stream open for as long as it thinks. This response
always listens for ``http.disconnect``, closes the provider stream (synchronously) the moment it
arrives, and closes the stream in a shielded scope however the response ends.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from ._protocol import HEADERS, Metadata, stream_metadata
from ._stream import Source, UIMessageStream

__all__ = ["UIMessageStreamResponse"]


class UIMessageStreamResponse(StreamingResponse):
    """A kairos stream (sync or async, or an awaitable opening one) sent to ``useChat``::

        return UIMessageStreamResponse(llm.chat_stream(req))

    ``ui_stream`` is the :class:`~kairos.web.UIMessageStream` being sent."""

    def __init__(
        self,
        source: Source | UIMessageStream,
        *,
        message_id: str | None = None,
        metadata: Metadata | None = stream_metadata,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(source, UIMessageStream):
            self.ui_stream = source
        else:
            self.ui_stream = UIMessageStream(source, message_id=message_id, metadata=metadata)
        super().__init__(
            self.ui_stream,
            status_code=status_code,
            headers={**HEADERS, **(headers or {})},
            media_type="text/event-stream",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ui = self.ui_stream
        try:
            async with anyio.create_task_group() as group:

                async def respond() -> None:
                    with contextlib.suppress(OSError):  # the client went away mid-write
                        await self.stream_response(send)
                    group.cancel_scope.cancel()

                async def watch() -> None:
                    await self.listen_for_disconnect(receive)
                    ui.cancel()  # first, synchronously: the provider stream closes now
                    group.cancel_scope.cancel()

                group.start_soon(respond)
                group.start_soon(watch)
        finally:
            ui.cancel()
            with anyio.CancelScope(shield=True):
                await ui.aclose()
        if self.background is not None:
            await self.background()
