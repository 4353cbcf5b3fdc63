"""Access to the official Matrix spec data in ../shared/specs (read-only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from sandbox.specs import specs_dir

SPECS = specs_dir()
MATRIX = SPECS / "matrix" / "data"
AS_API = MATRIX / "api" / "application-service"
EVENT_EXAMPLES = MATRIX / "event-schemas" / "examples"


def resolve_refs(node: Any, base: Path) -> Any:
    """Inline ``{"$ref": file, ...overrides}`` the way the spec's examples use it."""
    if isinstance(node, list):
        return [resolve_refs(item, base) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node and not str(node["$ref"]).startswith("#"):
        target = (base / node["$ref"]).resolve()
        loaded = resolve_refs(yaml.safe_load(target.read_text()), target.parent)
        overrides = {k: resolve_refs(v, base) for k, v in node.items() if k != "$ref"}
        return {**loaded, **overrides}
    return {k: resolve_refs(v, base) for k, v in node.items()}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def transaction_example() -> dict[str, Any]:
    spec = load_yaml(AS_API / "transactions.yaml")
    body = spec["paths"]["/transactions/{txnId}"]["put"]["requestBody"]["content"]
    return resolve_refs(body["application/json"]["schema"]["example"], AS_API)


def event_example(name: str) -> dict[str, Any]:
    path = EVENT_EXAMPLES / name
    return resolve_refs(load_yaml(path), path.parent)


EVENT_SCHEMAS = MATRIX / "event-schemas" / "schema"


def _retrieve(uri: str) -> Any:
    from referencing import Resource
    from referencing.jsonschema import DRAFT202012

    path = Path(uri.removeprefix("file://"))
    contents = yaml.safe_load(path.read_text())
    return Resource.from_contents(contents, default_specification=DRAFT202012)


def event_validator(schema_name: str) -> Any:
    """A jsonschema validator for one event schema file, its relative $refs resolved."""
    from jsonschema import Draft202012Validator
    from referencing import Registry

    path = (EVENT_SCHEMAS / schema_name).resolve()
    schema = {**yaml.safe_load(path.read_text()), "$id": path.as_uri()}
    return Draft202012Validator(schema, registry=Registry(retrieve=_retrieve))


def schema_errors(schema_name: str, event: dict[str, Any]) -> list[str]:
    validator = event_validator(schema_name)
    return [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(event)]
