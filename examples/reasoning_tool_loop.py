"""A complete tool loop with a reasoning model.

The assistant turn goes back into the history with ``to_message()``: its thinking blocks and
their signatures (Anthropic), its ``reasoning_content`` (DeepSeek) or its thought signatures
(Gemini) travel with it, as each provider requires in the next request. A failed tool call is
reported with ``is_error=True``.

    python examples/reasoning_tool_loop.py anthropic                 # real API, ANTHROPIC_API_KEY
    python examples/reasoning_tool_loop.py deepseek/deepseek-chat http://127.0.0.1:8000/v1

Offline, against the strict emulator (it rejects a loop that drops what the provider needs)::

    kairos serve --strict examples/reasoning_loop.yaml
    ANTHROPIC_BASE_URL=http://127.0.0.1:PORT ANTHROPIC_API_KEY=x \\
        python examples/reasoning_tool_loop.py anthropic
"""

from __future__ import annotations

import json
import sys
from typing import Any

import kairos

TOOLS = [
    kairos.Tool(
        "get_weather",
        "The current weather in a city",
        {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    )
]


def get_weather(city: str) -> dict[str, Any]:
    if not city:
        raise ValueError("no city given")
    return {"city": city, "forecast": "sunny", "temperature_c": 21}


def answer(llm: kairos.StreamingProvider, question: str, max_steps: int = 5) -> str:
    history = [kairos.Message.user(question)]
    for _ in range(max_steps):
        req = kairos.ChatRequest(history, tools=TOOLS, reasoning=kairos.Reasoning("low"))
        reply = llm.chat(req)
        history.append(reply.to_message())  # reasoning, signatures and calls go back as received
        if not reply.tool_calls:
            return reply.content
        for call in reply.tool_calls:
            try:
                result, failed = json.dumps(get_weather(**call.parsed_arguments())), False
            except (TypeError, ValueError, kairos.KairosError) as exc:
                result, failed = f"get_weather failed: {exc}", True
            history.append(kairos.Message.tool(result, call.id, call.name, is_error=failed))
    raise RuntimeError(f"no answer after {max_steps} steps")


def main() -> int:
    spec = sys.argv[1] if len(sys.argv) > 1 else "anthropic"
    base_url = sys.argv[2] if len(sys.argv) > 2 else None
    with kairos.provider(spec, base_url=base_url) as llm:
        print(answer(llm, "What is the weather in Paris?"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
