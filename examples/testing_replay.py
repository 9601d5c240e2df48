"""Pin a real recorded stream: replay its raw bytes through a real kairos provider.

Save a response body once (curl -N ... > answer.sse) and pass the path instead of bytes:
ReplayTransport("answer.sse", split=64, delay=0.01)."""

import httpx

import kairos
from kairos.testing import ReplayTransport

# Recorded Anthropic Messages stream, from the API docs' "Basic streaming request" example
# (https://docs.anthropic.com/en/docs/build-with-claude/streaming), shortened.
RECORDED = b"""event: message_start
data: {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "model": "claude-opus-4-1-20250805", "stop_reason": null, "stop_sequence": null, "usage": {"input_tokens": 25, "output_tokens": 1}}}

event: content_block_start
data: {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}

event: ping
data: {"type": "ping"}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hello"}}

event: content_block_delta
data: {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "!"}}

event: content_block_stop
data: {"type": "content_block_stop", "index": 0}

event: message_delta
data: {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence":null}, "usage": {"output_tokens": 15}}

event: message_stop
data: {"type": "message_stop"}

"""  # noqa: E501

transport = ReplayTransport(RECORDED, split=50, delay=0.001)  # 50-byte pieces, like a network
llm = kairos.provider("anthropic", api_key="unused", http_client=httpx.Client(transport=transport))
resp = llm.chat(kairos.ChatRequest([kairos.Message.user("Hello")]))
print(resp.content, resp.finish_reason, resp.usage and resp.usage.total_tokens)
print(f"requests seen: {len(transport.requests)} to {transport.requests[0].url.path}")
