"""Cancellation (the seed's "Cancelación"): a 10 s total deadline, and stopping as soon as the
text contains "stop". Leaving the `with` block closes the connection at once."""

import sys

import kairos

provider = kairos.provider(
    sys.argv[1] if len(sys.argv) > 1 else "openai", timeout=kairos.Timeouts(total=10)
)
req = kairos.ChatRequest([kairos.Message.user("Cuenta hasta cien y di stop.")])

with provider, provider.chat_stream(req) as stream:
    for chunk in stream:
        print(chunk.content, end="", flush=True)
        if "stop" in chunk.content:
            break  # the with block closes the HTTP response now
print()
