"""Basic streaming (the seed's "Uso básico"). Reads OPENAI_API_KEY / OPENAI_BASE_URL, or pass
another provider name as the first argument, e.g. `python examples/basic.py anthropic`."""

import sys

import kairos

provider = kairos.provider(sys.argv[1] if len(sys.argv) > 1 else "openai")
req = kairos.ChatRequest([kairos.Message.user("Escribe un poema corto sobre Go.")])

with provider, provider.chat_stream(req) as stream:
    for chunk in stream:
        if chunk.error is not None:
            sys.exit(f"stream failed: {chunk.error}")
        print(chunk.content, end="", flush=True)  # text as it arrives
        if chunk.done and chunk.usage is not None:
            print(f"\nTokens: {chunk.usage.total_tokens}")
