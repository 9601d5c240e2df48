"""A function-driven provider: your function sees each request and returns or yields the reply,
streamed in the Gemini wire format; a scripted failure arrives as a typed error."""

from collections.abc import Iterator

import kairos
from kairos.testing import Fail, FunctionProvider, Pause


def shouting_model(req: kairos.ChatRequest) -> Iterator[str | Pause | Fail]:
    prompt = req.messages[-1].content
    if "fail" in prompt:
        yield "Partial answer"
        yield Fail("overloaded", "scripted overload")
        return
    for word in prompt.split():
        yield word.upper() + " "
        yield Pause(0.01)  # pace the stream like a real model


llm = FunctionProvider(shouting_model, wire="gemini")
req = kairos.ChatRequest([kairos.Message.user("hello streaming world")])
with llm.chat_stream(req) as stream:
    for chunk in stream:
        if chunk.done:
            print(f"\nfinish={chunk.finish_reason}")
        else:
            print(chunk.content, end="|")

try:
    llm.chat(kairos.ChatRequest([kairos.Message.user("please fail")]))
except kairos.OverloadedError as err:
    kept = err.partial.content if err.partial else ""
    print(f"{type(err).__name__}: {err}; kept {kept!r}")
