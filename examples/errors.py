"""Error handling (the seed's "Manejo de errores"): check chunk.error first; cancellation is
recognisable with isinstance(err, kairos.Cancelled)."""

import sys

import kairos

provider = kairos.provider(sys.argv[1] if len(sys.argv) > 1 else "openai")
req = kairos.ChatRequest([kairos.Message.user("Hola")])

try:
    with provider, provider.chat_stream(req) as stream:
        for chunk in stream:
            if chunk.error is not None:
                if isinstance(chunk.error, kairos.Cancelled):
                    print("Stream cancelled by user")
                else:
                    print(f"Stream error: {chunk.error}")
                    print(f"Kept so far: {chunk.error.partial.content!r}")  # type: ignore[union-attr]
                break
            print(chunk.content, end="", flush=True)
except kairos.RateLimitError as err:  # raised before any byte arrived: nothing was shown
    print(f"Rate limited; retry after {err.retry_after}s")
except kairos.KairosError as err:
    print(f"Request failed: {err}")
