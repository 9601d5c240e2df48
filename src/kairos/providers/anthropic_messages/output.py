"""Structured output on Anthropic Messages.

Models that have it get ``output_config: {format: {type: "json_schema", schema}}`` (Anthropic's
"Structured outputs", generally available; the answer is the JSON text). Other models get a
forced tool, :data:`OUTPUT_TOOL`, whose input schema is the output schema: its input is the
object, and the event parser reports that input as the answer's text (never as a tool call), so
the stream machine folds it like any other wire's JSON text. Which models have the native mode
is data: the preset option ``structured_output_models`` (a regular expression matched against
the model name; default :data:`NATIVE_MODELS`).

A forced tool cannot be combined with extended thinking (the API rejects a forced
``tool_choice`` with thinking on): that is a :class:`kairos.ConfigurationError` before any
request. With tools of the caller's own, ``tool_choice`` becomes ``any`` (the model may call
them first; its answer still comes through the output tool), except that a caller's choice of
one named tool is kept (that turn calls it and, like any tool turn, has no object) and
``none`` is a ConfigurationError (the answer could not come). The forced tool needs an object
schema (tool inputs are objects).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ..._output import output_spec
from ...errors import ConfigurationError
from ...llm import ChatRequest

__all__ = ["NATIVE_MODELS", "OUTPUT_TOOL", "add_output"]

OUTPUT_TOOL = "kairos_output"
# Claude models with native structured outputs (Anthropic docs, "Structured outputs")
NATIVE_MODELS = r"^claude-(?:(?:opus|sonnet|haiku)-4-[5-9]|opus-4-1|(?:opus|sonnet|haiku)-[5-9])"


def add_output(
    body: dict[str, Any], req: ChatRequest, model: str, options: Mapping[str, Any]
) -> None:
    """Add the structured-output fields for ``req.output_schema`` (if any) to ``body``."""
    spec = output_spec(req.output_schema)
    if spec is None:
        return
    pattern = str(options.get("structured_output_models", NATIVE_MODELS))
    if re.search(pattern, model):
        body["output_config"] = {"format": {"type": "json_schema", "schema": dict(spec.schema)}}
        return
    thinking = req.extras.get("thinking") or body.get("thinking")  # ChatRequest.reasoning too
    if isinstance(thinking, Mapping) and thinking.get("type") == "enabled":
        raise ConfigurationError(
            f"structured output on {model} needs a forced tool, which Anthropic does not allow "
            "with extended thinking: drop thinking or use a model with native structured output"
        )
    if spec.schema.get("type") != "object":
        raise ConfigurationError(
            f"structured output on {model} goes through a tool, whose input must be an object:"
            " give output_schema a top-level object"
        )
    chosen = body.get("tool_choice") or {}
    if chosen.get("type") == "none":
        raise ConfigurationError(
            f"structured output on {model} comes through a tool, and tool_choice 'none' forbids "
            "tools: drop tool_choice or use a model with native structured output"
        )
    tool = {
        "name": OUTPUT_TOOL,
        "description": "Give your answer as this tool's input.",
        "input_schema": dict(spec.schema),
    }
    body["tools"] = [*body.get("tools", []), tool]
    if chosen.get("type") == "tool":
        return  # the caller's named tool this turn; the answer comes on a later one
    only = len(body["tools"]) == 1
    body["tool_choice"] = {"type": "tool", "name": OUTPUT_TOOL} if only else {"type": "any"}
