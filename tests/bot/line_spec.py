"""Check request bodies against LINE's own OpenAPI description (../shared/specs/line).

OpenAPI's ``discriminator`` is not JSON Schema, so it is rewritten: a base schema with a
discriminator becomes "its own properties, plus: if type == X then the mapped schema";
the mapped schemas refer to a copy of the base without the discriminator, which breaks
the cycle. The result is a plain Draft 2020-12 validator.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

PREFIX = "#/components/schemas/"


def _rewrite(schemas: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(schemas)
    for name, schema in schemas.items():
        disc = schema.get("discriminator")
        if not disc:
            continue
        plain = {k: v for k, v in copy.deepcopy(schema).items() if k != "discriminator"}
        out[f"{name}__plain"] = plain
        prop, mapping = disc["propertyName"], disc["mapping"]
        branches = [
            {"if": {"properties": {prop: {"const": key}}, "required": [prop]}, "then": {"$ref": ref}}
            for key, ref in mapping.items()
        ]
        known = {"properties": {prop: {"enum": sorted(mapping)}}}
        out[name] = {"allOf": [{"$ref": f"{PREFIX}{name}__plain"}, known, *branches]}
        for ref in mapping.values():
            target = out[ref.removeprefix(PREFIX)]
            for part in target.get("allOf", []):
                if part.get("$ref") == f"{PREFIX}{name}":
                    part["$ref"] = f"{PREFIX}{name}__plain"
    return out


@cache
def _spec(path: str) -> dict[str, Any]:
    spec = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    spec["components"]["schemas"] = _rewrite(spec["components"]["schemas"])
    return spec


def validator(spec_path: Path, schema_name: str) -> jsonschema.Draft202012Validator:
    spec = _spec(str(spec_path))
    root = {"components": spec["components"], "$ref": f"{PREFIX}{schema_name}"}
    return jsonschema.Draft202012Validator(root)


REQUESTS = {"push": "PushMessageRequest", "reply": "ReplyMessageRequest", "multicast": "MulticastRequest",
            "loading": "ShowLoadingAnimationRequest", "read": "MarkMessagesAsReadByTokenRequest"}


def check_request(spec_path: Path, kind: str, body: dict[str, Any]) -> list[str]:
    """Problems LINE's schema finds in ``body`` (an empty list if it conforms)."""
    name = REQUESTS.get(kind)
    if name is None:
        return []
    errors = validator(spec_path, name).iter_errors(body)
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]
