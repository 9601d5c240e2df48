"""Structured output, streamed: the object grows on screen as the model writes it.

    python examples/structured_output.py            # a real provider (key from the environment)

With no key, it runs on kairos' own emulator with a scripted object, so it works offline.
"""

import json
import os

import kairos

SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"day": {"type": "string"}, "high_c": {"type": "number"}},
                "required": ["day", "high_c"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["city", "days"],
    "additionalProperties": False,
}
req = kairos.ChatRequest(
    [kairos.Message.user("A three-day forecast for Lisbon, as JSON.")], output_schema=SCHEMA
)


def show(llm: kairos.HTTPProvider) -> None:
    with llm.chat_stream(req) as stream:
        for chunk in stream:
            if chunk.error is not None:
                raise chunk.error  # kairos.OutputError: not JSON, or not the schema
            if chunk.object is not None and not chunk.done:
                print("\r" + json.dumps(chunk.object, ensure_ascii=False)[:100], end="", flush=True)
    print("\nfinal:", stream.response.object)


if os.environ.get("OPENAI_API_KEY"):
    show(kairos.provider("openai"))
else:
    from kairos.serve import EmulatorServer

    forecast = {
        "city": "Lisbon",
        "days": [{"day": "Mon", "high_c": 21.5}, {"day": "Tue", "high_c": 23}],
    }
    with EmulatorServer({"replies": [{"object": forecast, "chunk_delay": 0.02}]}) as srv:
        show(kairos.provider("openai", base_url=srv.base_urls["OPENAI_BASE_URL"], api_key="x"))
