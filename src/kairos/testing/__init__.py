"""kairos.testing: test code built on kairos without keys or network.

Every double here speaks a real provider's wire protocol: a scripted reply is rendered (by the
wire's own renderer in ``kairos.providers``) into the exact bytes the provider would send and
read back by kairos' own codec, decoder and stream machine. Your code sees real
:class:`kairos.StreamChunk` objects, real stats, real typed errors and real cancellation, not a
hand-rolled mock.

Scripted provider
-----------------
::

    from kairos import ChatRequest, Message
    from kairos.testing import Call, Fail, Pause, Reply, ScriptedProvider

    llm = ScriptedProvider(
        [
            Reply.text("Let me check.", calls=[Call("get_weather", {"city": "Paris"})]),
            "It is 18 degrees in Paris.",  # a string is a text reply
        ],
        wire="anthropic-messages",  # a wire name (default "openai-chat") or a preset ("qwen")
    )
    answer = llm.chat(ChatRequest([Message.user("Weather in Paris?")]))
    llm.requests   # the ChatRequests received, in order
    llm.exchanges  # one per HTTP request: .body (the JSON kairos sent), .reply, .stream

``ScriptedProvider`` / ``AsyncScriptedProvider`` are real :class:`kairos.HTTPProvider` /
:class:`kairos.AsyncHTTPProvider` objects (extra keywords such as ``timeout`` go to
:func:`kairos.provider`). Each request takes the next reply; one request too many raises
:class:`ScriptExhausted` (a :class:`kairos.ConfigurationError`). ``max_retries`` defaults to 0:
pass ``max_retries=N`` to test your retry handling (every retry takes the next reply).
``strict=True`` answers a request the real API would reject (a tool-loop turn that lost its
thinking block or ``reasoning_content``, an image the wire cannot take...) with that provider's
error, as ``kairos serve --strict`` does: your agent loop is tested offline.

Replies
-------
A :class:`Reply` is a sequence of pieces, streamed in order:

* ``Text("...")`` content, ``Reasoning("...", signature=None)`` thinking text (consecutive
  pieces are one block; wires that sign thinking get a signature the strict emulator checks),
  ``Redacted("data")`` an opaque reasoning block (Anthropic ``redacted_thinking``),
  ``Refusal("...")`` a refusal (OpenAI ``refusal``; elsewhere the wire's refusal stop reason),
  ``Cite(url, title=None, text=None)`` a source for the text that follows (Anthropic
  citations, OpenAI ``url_citation`` annotations, Gemini grounding);
* ``Call(name, arguments={}, id=None)`` a tool call (``arguments`` a dict or JSON text; an id
  is generated when ``None``, except on Gemini and Ollama whose APIs usually send none: kairos
  then generates one as it does for the real APIs);
* ``Pause(seconds)`` a real wait before the next piece; pauses at the start come before the
  first byte. A pause longer than the provider's first-chunk or idle timeout ends the stream
  with :class:`kairos.FirstChunkTimeout` / :class:`kairos.IdleTimeout`, as a silent server
  would;
* ``Fail(kind, message)`` an in-band error at that point of the stream, in the wire's real
  error shape; nothing after it is sent.

``Reply.text(text, chunk_size=None, reasoning="", calls=())`` splits text into words (or
``chunk_size`` characters); ``Reply.object(value)`` streams a value as JSON text cut at awkward
places (inside strings, escapes and numbers), for structured output (``output_schema``).
``usage=None`` estimates usage (about one token per word); ``finish_reason=None`` means
``"tool_calls"`` when there are calls, else ``"stop"``; ``chunk_delay`` waits between chunks;
``model`` overrides the model echoed back.

``Fail`` kinds and the error kairos raises for each wire's real error shape:

====================  =====================  ======================  ===========
kind                  OpenAI                 Anthropic / Gemini      Ollama
====================  =====================  ======================  ===========
``overloaded``        OverloadedError        OverloadedError         ServerError
``rate_limit``        RateLimitError         RateLimitError          ServerError
``server``            ServerError            ServerError             ServerError
``invalid_request``   BadRequestError        BadRequestError         ServerError
``authentication``    AuthenticationError    AuthenticationError     ServerError
``context_length``    ContextLengthError     BadRequestError         ServerError
====================  =====================  ======================  ===========

(Anthropic and Gemini have no distinct context-length error; Ollama drops the status of an
error written after the first line.)

Function-driven provider
------------------------
::

    def model(req):                    # gets the kairos.ChatRequest
        yield Reasoning("easy")
        yield "You said: " + req.messages[-1].content

    llm = FunctionProvider(model)      # return a Reply or a str, or yield pieces / strings

``AsyncFunctionProvider`` also takes ``async def`` functions and async generators. Exceptions
raised by the function propagate unchanged from ``chat`` / ``chat_stream``.

Replay transport
----------------
:class:`ReplayTransport` is an httpx transport (sync and async) replaying recorded bytes, so a
real provider object reads a stream you recorded once::

    transport = ReplayTransport("tests/data/answer.sse", split=64, delay=0.01)
    llm = kairos.provider("anthropic", api_key="x", http_client=httpx.Client(transport=transport))

``body`` is bytes, a file path (``str`` or ``Path``) or a list of byte pieces; ``status`` and
``headers`` set the response (the content type is guessed when not given).

No network
----------
``with block_network():`` (also ``async with``, or ``@block_network()`` on a sync or async
function) makes every real httpx request fail with :class:`NetworkBlocked` (a
:class:`kairos.ConfigurationError`); the doubles, :class:`ReplayTransport` and
``httpx.MockTransport`` keep working. ``allow_loopback=True`` lets 127.0.0.1 / localhost
through. With pytest, request the ``kairos_no_network`` (or
``kairos_no_network_but_loopback``) fixture from the ``kairos`` plugin, installed with kairos.

Script files
------------
:func:`load_replies` reads a JSON or YAML file (YAML needs PyYAML) holding a list of replies or
``{"replies": [...]}``; :func:`reply_from_dict` reads one entry. An entry is a string (a text
reply) or an object with any of::

    text: "Hello there"            # content, split into words (chunk_size: N for N chars)
    reasoning: "thinking text"     # sent before the text
    signature: "c2ln..."           # the thinking block's signature (else the emulator's own)
    citations: [{url: "https://...", title: "A source", text: "quoted"}]  # for the text
    refusal: "I can't help with that."   # after the text
    tool_calls: [{name: get_weather, arguments: {city: Paris}, id: call_1}]
    pieces: [{text: "..."}, {reasoning: "..."}, {reasoning: {text: "...", signature: "..."}},
             {redacted: "opaque"}, {refusal: "..."}, {cite: {url: "https://..."}},
             {pause: 0.2}, {call: {name: f}},
             {fail: overloaded}]   # after text and tool_calls; fail may be {kind, message}
    fail: rate_limit               # an in-band error after everything else
    usage: {prompt_tokens: 12, completion_tokens: 5}   # also total/cached/reasoning_tokens
    finish_reason: length
    model: my-model
    chunk_delay: 0.02
    object: {city: Paris, temps: [18, 21]}   # instead of the above: a value as JSON text

Bad entries raise :class:`kairos.ConfigurationError` with a one-line message.

Renderers
---------
``render_stream(reply, wire, model)`` yields the streamed HTTP body (``bytes``) with pauses
(``float`` seconds); ``render_body`` gives the non-stream JSON answer; ``render_error`` and
``error_status`` an HTTP error response. ``wire`` is a wire name or a preset name. They are pure
(no I/O) and back the doubles, ``kairos serve`` and kairos' own fault tests; each wire's
renderer lives in its folder under ``kairos.providers``. ``WIRES`` lists the wire names,
``CONTENT_TYPES`` their streamed content types.
"""

from .._replies import (
    FAIL_KINDS,
    Call,
    Cite,
    Fail,
    Pause,
    Reasoning,
    Redacted,
    Refusal,
    Reply,
    Text,
    estimate_tokens,
)
from .._reply_files import load_replies, reply_from_dict
from ..providers import WIRES as _REGISTRY
from ..providers import wire_spec
from ..providers._render import error_status, render_body, render_error, render_stream
from ._doubles import (
    AsyncFunctionProvider,
    AsyncScriptedProvider,
    Exchange,
    FunctionProvider,
    ScriptedProvider,
    ScriptExhausted,
    as_reply,
)
from ._guard import NetworkBlocked, block_network
from ._transport import BodyStream, ReplayTransport

WIRES = tuple(_REGISTRY)
"""The wire names (``openai-chat``, ``anthropic-messages``, ``gemini``, ``ollama-chat``,
``openai-responses``)."""
CONTENT_TYPES = {name: wire_spec(name).stream_type for name in WIRES}
"""The content type of each wire's streamed body."""

__all__ = [
    "CONTENT_TYPES",
    "FAIL_KINDS",
    "WIRES",
    "AsyncFunctionProvider",
    "AsyncScriptedProvider",
    "BodyStream",
    "Call",
    "Cite",
    "Exchange",
    "Fail",
    "FunctionProvider",
    "NetworkBlocked",
    "Pause",
    "Reasoning",
    "Redacted",
    "Refusal",
    "ReplayTransport",
    "Reply",
    "ScriptExhausted",
    "ScriptedProvider",
    "Text",
    "as_reply",
    "block_network",
    "error_status",
    "estimate_tokens",
    "load_replies",
    "render_body",
    "render_error",
    "render_stream",
    "reply_from_dict",
]
