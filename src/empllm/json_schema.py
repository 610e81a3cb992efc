"""Building blocks for the JSON schemas agents and judges ask structured-output servers for
(GenerationSettings.json_schema). Strict-mode shape: every property required, no others."""

from __future__ import annotations

import json

TEXT = {"type": "string", "minLength": 1}
OPTIONAL_TEXT = {"type": "string"}
SCALE_0_10 = {"type": "integer", "minimum": 0, "maximum": 10}


def object_schema(**properties) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties), "additionalProperties": False}


def enum(values) -> dict:
    return {"type": "string", "enum": [str(v) for v in values]}


def as_text(schema: dict) -> str:
    return json.dumps(schema, ensure_ascii=False)


def structured(runtime, gen, schema: dict):
    """`gen` asking for `schema` where the runtime's backend has structured output, else `gen`."""
    if not runtime.capabilities.structured_output:
        return gen
    return gen.model_copy(update={"json_schema": as_text(schema)})
