"""The OpenAI Responses wire (``POST /v1/responses``): OpenAI, Azure OpenAI's v1 API, and the
servers that speak it (vLLM, Ollama's compatibility layer, OpenRouter).

Wire facts (OpenAI API reference, "Responses" / "Streaming events" / "Function calling" /
"Reasoning"; the recorded bodies in ``tests/providers/openai-responses/fixtures``):

* Request: ``{model, input: [items], instructions, tools, tool_choice, max_output_tokens,
  temperature, top_p, reasoning, include, text, store, stream}``. Input items are messages
  (user content as ``input_text`` / ``input_image`` / ``input_file`` parts), the assistant
  turns' output items (``reasoning``, ``message``, ``function_call``, server-tool items) and
  ``function_call_output`` items keyed by ``call_id`` (``parts.py``). Function tools are flat
  (``{type: "function", name, description, parameters, strict}``) and ``strict`` defaults to
  true on this API, so kairos sends ``strict: false`` (the Chat Completions meaning of a plain
  JSON Schema). There are no stop sequences. kairos sends ``store: false`` (a request's
  ``extras`` may say otherwise); ``ChatRequest.reasoning`` is ``reasoning: {effort, summary}``
  with ``include: ["reasoning.encrypted_content"]`` (``request.py``).
* Stream: SSE events typed by their ``type`` field (OpenAI also names them on an ``event:`` line;
  OpenRouter sends data lines only), each with a ``sequence_number`` (early recordings have
  none). The answer is a list of output items addressed by ``output_index``: ``message`` items
  stream ``response.output_text.delta`` (content) and ``response.refusal.delta``;
  ``reasoning`` items stream ``response.reasoning_summary_text.delta`` (summaries, OpenAI) or
  ``response.reasoning_text.delta`` (raw reasoning, open-weight servers), both kairos'
  ``reasoning``; ``function_call`` items open with ``response.output_item.added`` (``call_id``,
  the tool-call id kairos reports, and ``name``) and stream
  ``response.function_call_arguments.delta``. ``response.output_item.done`` carries each
  finished item whole. Server-side tools (web search, code interpreter, MCP...) are not tool
  calls for the caller: they are kept as provider parts for the next turn.
* End: one of three terminal events carrying the whole response: ``response.completed``,
  ``response.incomplete`` (``incomplete_details.reason``: ``max_output_tokens`` -> finish
  ``length``, ``content_filter`` -> ``content_filter``) and ``response.failed`` (a typed error
  from ``response.error.code``). There is no ``[DONE]`` (OpenRouter adds one after the terminal
  event; it is ignored): a body that ends before a terminal event is an
  :class:`~kairos.IncompleteStreamError`. Usage: ``input_tokens``
  (``input_tokens_details.cached_tokens``), ``output_tokens``
  (``output_tokens_details.reasoning_tokens``), ``total_tokens``.
* Errors: HTTP errors have the Chat Completions body (``{"error": {message, type, param,
  code}}``); in the stream an ``error`` event comes as ``{type: "error", code, message,
  param}`` or ``{type: "error", error: {type, code, message, param}}`` (both are read).
* ``raw_finish_reason`` is the response's ``status`` (``completed``, ``failed``), or for an
  incomplete response the reason it gives (``max_output_tokens``, ``content_filter``...).
* A non-stream answer is the response object itself; it goes through the same mapping as the
  terminal event of a stream whose items never streamed.

What a later turn needs travels in the ordered turn (``ChatResponse.to_message()``; the items
are taken from ``response.output_item.done``, never the incomplete ``.added`` copies,
``items.py``): each reasoning item is a reasoning block (summary or raw reasoning text, its
``encrypted_content`` as ``data``, its id, the item's summary and content lists as received),
each message item's text a text part keeping the item and part as received, each server-tool
item a provider part, and each call keeps its item ``id`` and ``status``
(``provider_data["openai-responses"]``). ``response.refusal.delta`` pieces and ``refusal``
parts are the refusal (finish ``content_filter``); ``url_citation`` annotations the answer's
citations. ``kairos serve --strict`` applies ``strict.py``.
"""

from __future__ import annotations

from .._spec import Route, WireSpec

__all__ = ["WIRE"]

WIRE = WireSpec(
    name="openai-responses",
    title="OpenAI Responses",
    framing="sse",
    preset="openai-responses",
    routes=(
        # OpenAI (a base URL with or without /v1) and Azure OpenAI's v1 API
        Route(r"(/v1|/openai/v1)?/responses"),
    ),
    messages_key="input",
    system_key="instructions",
)
