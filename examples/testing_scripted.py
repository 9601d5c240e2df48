"""Test your app's tool loop with a scripted provider: no key, no network, real streaming.

The replies are rendered as the exact bytes the Anthropic API would send and read back through
kairos' real codec, so `answer()` below runs exactly as it would against the real API."""

import kairos
from kairos.testing import Call, Reply, ScriptedProvider

WEATHER = kairos.Tool(
    "weather", "Current weather", {"type": "object", "properties": {"city": {"type": "string"}}}
)


def answer(llm: kairos.HTTPProvider, question: str) -> str:
    """The code under test: call tools until the model answers."""
    messages = [kairos.Message.user(question)]
    while True:
        resp = llm.chat(kairos.ChatRequest(messages, tools=[WEATHER]))
        if not resp.tool_calls:
            return resp.content
        messages.append(kairos.Message.assistant(resp.content, resp.tool_calls))
        for call in resp.tool_calls:
            city = call.parsed_arguments()["city"]
            messages.append(kairos.Message.tool(f"18 degrees in {city}", call.id, call.name))


llm = ScriptedProvider(
    [
        Reply.text("Let me check.", calls=[Call("weather", {"city": "Paris"})]),
        "It is 18 degrees in Paris.",  # a string is a plain text reply
    ],
    wire="anthropic-messages",
)
print(answer(llm, "Weather in Paris?"))
print(f"tool result sent back: {llm.requests[1].messages[-1].content!r}")
print(f"requests: {len(llm.requests)}, replies left: {llm.remaining}")
