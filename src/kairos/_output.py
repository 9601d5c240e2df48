"""Structured output: the schema a request asks for, the object as it streams, the object it ends
with. Pure.

``ChatRequest(output_schema=...)`` takes a JSON Schema (a mapping) or a class with
``model_json_schema()`` (a Pydantic v2 model; Pydantic is never a dependency of kairos).
:func:`output_spec` turns it into an :class:`OutputSpec` that every codec reads to send its
provider's native field, and the stream machine reads to fold the content into an object:

* every chunk's ``object`` is the partial object parsed from the JSON text so far (the
  incremental parser of :mod:`kairos._partial_json`: linear in the text, whatever the split;
  the value is built only when ``chunk.object`` is read);
* the final chunk's ``object`` and ``ChatResponse.object`` hold the complete object, validated
  against the schema (:mod:`kairos._jsonschema`), an instance of the class when one was given
  (its ``model_validate``);
* a text that is not one JSON value, or does not validate, ends the stream with
  :class:`kairos.OutputError` whose ``partial`` keeps the text; so does a refusal (its text in
  the message and in ``partial.refusal``), never an empty object. A turn that ends with tool
  calls and no text has no object (``None``), and no error: the model asked for a tool first.

Strict mode (OpenAI's ``strict: true``): kairos sends it when the schema already meets the
strict rules (the root and every object schema list all their properties in ``required`` and
say ``additionalProperties: false``), and ``strict: false`` otherwise, rather than rewriting a
schema (which would change what the object may hold). kairos validates the result either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from ._accumulate import Accumulator
from ._codec import Delta
from ._jsonschema import first_error
from ._partial_json import PartialJSON, PartialJSONError
from .errors import ConfigurationError, OutputError
from .llm import StreamChunk

__all__ = ["ObjectAccumulator", "OutputSpec", "output_spec"]


@dataclass(frozen=True, slots=True)
class OutputSpec:
    schema: Mapping[str, Any]  # the JSON Schema, as sent
    name: str  # a name for it (the class name or the schema's title), [A-Za-z0-9_-]{1,64}
    cls: Any = None  # the class given, if any: the final object is its model_validate(...)
    strict: bool = False  # the schema meets the strict-mode rules (see the module docstring)


def output_spec(value: Any) -> OutputSpec | None:
    """The spec for ``ChatRequest.output_schema`` (None when there is none)."""
    if value is None:
        return None
    cls = None
    if isinstance(value, Mapping):
        schema: Any = dict(value)
        name = schema.get("title")
    elif callable(getattr(value, "model_json_schema", None)):
        cls, schema, name = value, value.model_json_schema(), getattr(value, "__name__", "")
    else:
        raise ConfigurationError(
            "output_schema: expected a JSON Schema mapping or a class with model_json_schema(),"
            f" got {type(value).__name__}"
        )
    if not isinstance(schema, dict):
        raise ConfigurationError("output_schema: the schema must be a JSON object")
    try:
        schema = json.loads(json.dumps(schema, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"output_schema: not JSON ({exc})") from None
    clean = re.sub(r"[^A-Za-z0-9_-]", "_", str(name or ""))[:64] or "output"
    return OutputSpec(schema, clean, cls, _strict_ok(schema))


def _objects(schema: Any) -> Iterator[Mapping[str, Any]]:
    """Every object schema inside ``schema`` ($defs included)."""
    if isinstance(schema, Mapping):
        if schema.get("type") == "object" or "properties" in schema:
            yield schema
        for value in schema.values():
            yield from _objects(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _objects(value)


def _strict_ok(schema: Mapping[str, Any]) -> bool:
    if schema.get("type") != "object":
        return False
    for obj in _objects(schema):
        props = obj.get("properties") or {}
        if obj.get("additionalProperties") is not False:
            return False
        if not isinstance(props, Mapping) or set(obj.get("required") or []) != set(props):
            return False
    return True


class ObjectAccumulator(Accumulator):
    """The fold for a request with an output schema: content is also fed to the incremental
    parser, and every visible chunk carries the object so far (built when read)."""

    def __init__(self, spec: OutputSpec, provider: str = "", wire: str = "") -> None:
        super().__init__(provider, wire)
        self.spec = spec
        self.parser = PartialJSON()
        self.broken: PartialJSONError | None = None
        self.snapshot: Any = None

    def add(self, d: Delta) -> StreamChunk | None:
        chunk = super().add(d)
        if chunk is None:
            return None
        if chunk.content and self.broken is None:
            try:
                self.parser.feed(chunk.content)
                self.snapshot = self.parser.lazy_snapshot()
            except PartialJSONError as err:
                self.broken, self.snapshot = err, None
        chunk._object = self.snapshot
        return chunk

    def final_object(self, finish: str | None = None) -> Any:
        """The complete, validated object; raises :class:`OutputError` (None for a turn that
        ended with tool calls and no text). ``finish``: the turn's normalised finish reason."""
        if self.refused:
            refusal = " ".join("".join(self.turn.refusal).split())[:300]
            raise OutputError(f"the model refused: {refusal}")
        if finish == "content_filter":
            raise OutputError("the answer was stopped by the provider's content filter")
        if not self.content and self.calls:
            return None
        try:
            if self.broken is not None:
                raise self.broken
            value = self.parser.finish()
        except PartialJSONError as err:
            raise OutputError(f"the output is not valid JSON: {err}") from err
        problem = first_error(value, self.spec.schema)
        if problem is not None:
            raise OutputError(f"the output does not match the schema: {problem}")
        if self.spec.cls is not None:
            try:
                return self.spec.cls.model_validate(value)
            except Exception as exc:  # the class's own validation error, whatever its type
                text = " ".join(str(exc).split())[:300]
                raise OutputError(
                    f"the output does not validate as {self.spec.name}: {text}"
                ) from exc
        return value
