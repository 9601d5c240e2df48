"""Make any real network call fail inside tests; in-memory doubles keep working.

With pytest, request the `kairos_no_network` fixture (the kairos plugin provides it)."""

import kairos
from kairos.testing import NetworkBlocked, ScriptedProvider, block_network

req = kairos.ChatRequest([kairos.Message.user("hi")])

with block_network():
    print(ScriptedProvider(["doubles still work"]).chat(req).content)
    real = kairos.provider("openai", api_key="sk-never-sent")
    try:
        real.chat(req)
    except NetworkBlocked as err:
        print(f"blocked: {err}")
