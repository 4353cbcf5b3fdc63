"""Validate REST responses against Discord's official OpenAPI 3.1 spec.

The spec lives in the shared folder (``<repo>/../shared/specs/discord/openapi.json``
or ``$PASSERELLE_SHARED_SPECS/discord/openapi.json``). Response schemas are
JSON Schema 2020-12; ``#/components/...`` references are resolved through a
``referencing`` registry holding the whole document.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from sandbox.specs import ENV_VAR as ENV_VAR  # re-exported: tests set it
from sandbox.specs import specs_dir

log = logging.getLogger(__name__)

SPEC_URI = "urn:discord-openapi"
GUILD_MEDIA = 16  # a channel type Discord documents and sends, missing from the spec's enums
FORWARD = 1  # message_reference.type of a forward


def spec_path() -> Path:
    """Where Discord's openapi.json is (see sandbox.specs)."""
    return specs_dir() / "discord" / "openapi.json"


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time", raises=ValueError)
    def _date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", value):
            return False
        datetime.fromisoformat(value.replace("Z", "+00:00"))
        return True

    @checker.checks("uri")
    def _uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme in ("mailto", "urn"))

    return checker


def _escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


@dataclass(frozen=True)
class _Template:
    path: str
    parts: tuple[str, ...]

    @property
    def literal_count(self) -> int:
        return sum(1 for p in self.parts if not p.startswith("{"))

    def match(self, parts: list[str]) -> bool:
        if len(parts) != len(self.parts):
            return False
        return all(t.startswith("{") or t == p for t, p in zip(self.parts, parts, strict=True))


class Contract:
    """The spec, ready to validate ``(method, path, status, body)`` of a response."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT202012)
        self._registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._checker = _format_checker()
        self._templates = [
            _Template(p, tuple(p.strip("/").split("/"))) for p in spec.get("paths", {})
        ]
        self._validators: dict[str, Draft202012Validator] = {}

    @classmethod
    def load(cls, path: Path | None = None) -> Contract:
        return _load_cached(str(path or spec_path()))

    def match_path(self, path: str) -> str | None:
        """The spec's path template for a concrete path relative to the API base."""
        parts = path.split("?")[0].strip("/").split("/")
        found = [t for t in self._templates if t.match(parts)]
        if not found:
            return None
        return max(found, key=lambda t: t.literal_count).path

    def _response(self, method: str, template: str, status: int) -> tuple[str, Any] | None:
        """(JSON pointer, response object) documented for this status, following $refs."""
        op = self.spec["paths"].get(template, {}).get(method.lower())
        if op is None:
            return None
        responses = op.get("responses", {})
        for key in (str(status), f"{str(status)[0]}XX", "default"):
            if key in responses:
                pointer = f"/paths/{_escape(template)}/{method.lower()}/responses/{key}"
                node = responses[key]
                while "$ref" in node:
                    pointer = node["$ref"].lstrip("#")
                    node = self._at(pointer)
                return pointer, node
        return None

    def _at(self, pointer: str) -> Any:
        node: Any = self.spec
        for part in pointer.lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _validator(self, ref: str) -> Draft202012Validator:
        validator = self._validators.get(ref)
        if validator is None:
            validator = Draft202012Validator(
                {"$ref": ref}, registry=self._registry, format_checker=self._checker
            )
            self._validators[ref] = validator
        return validator

    def schema_errors(self, schema: str, body: Any) -> list[str]:
        """Why ``body`` does not match the component schema named ``schema`` ([] when it
        does): for request bodies (``IncomingWebhookRequestPartial`` ...)."""
        if schema not in self.spec.get("components", {}).get("schemas", {}):
            return [f"{schema}: no such schema"]
        validator = self._validator(f"{SPEC_URI}#/components/schemas/{_escape(schema)}")
        return [
            f"{schema}: at {'/'.join(str(p) for p in err.absolute_path) or '<root>'}: "
            + _short(err)
            for err in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        ]

    def errors(self, method: str, path: str, status: int, body: Any) -> list[str]:
        """Why a response does not match the spec ([] when it does).

        ``path`` is either a spec template or a concrete path under the API base.
        ``body`` is the decoded JSON, or None for an empty body.
        """
        template = path if path in self.spec["paths"] else self.match_path(path)
        where = f"{method.upper()} {template or path} -> {status}"
        if template is None:
            return [f"{where}: path not in the spec"]
        found = self._response(method, template, status)
        if found is None:
            return [f"{where}: status not documented"]
        pointer, response = found
        content = response.get("content") or {}
        if body is None:
            if content and status != 204:
                return [f"{where}: empty body where the spec documents one"]
            return []
        if "application/json" not in content:
            return [f"{where}: JSON body where the spec documents none"]
        body = _spec_gaps(body)
        validator = self._validator(f"{SPEC_URI}#{pointer}/content/application~1json/schema")
        out = []
        for err in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            at = "/".join(str(p) for p in err.absolute_path) or "<root>"
            out.append(f"{where}: at {at}: {_short(err)}")
        return out


def _spec_gaps(body: Any) -> Any:
    """``body`` with what the spec has not caught up with made spec-shaped: a media
    channel (type 16, documented by Discord, absent from every channel-type enum of the
    spec) is checked as the forum channel (15) it mirrors."""
    if isinstance(body, list):
        return [_spec_gaps(item) for item in body]
    if not isinstance(body, dict):
        return body
    out = {k: _spec_gaps(v) for k, v in body.items()}
    if out.get("type") == GUILD_MEDIA and "available_tags" in out and "guild_id" in out:
        out["type"] = 15
    # A forward's reference (type 1, FORWARD: documented by Discord, absent from the
    # spec's MessageReferenceType enum) is checked as a plain reference.
    ref = out.get("message_reference")
    if isinstance(ref, dict) and ref.get("type") == FORWARD and "message_snapshots" in out:
        out["message_reference"] = {**ref, "type": 0}
    return out


def _short(err: Any) -> str:
    """A readable reason; for oneOf failures, the best sub-error."""
    if err.validator in ("oneOf", "anyOf") and err.context:
        best = max(err.context, key=lambda e: len(list(e.absolute_path)))
        sub = "/".join(str(p) for p in best.absolute_path)
        return f"{err.message[:120]} (closest: at {sub}: {best.message[:200]})"
    return str(err.message)[:300]


@cache
def _load_cached(path: str) -> Contract:
    with open(path, encoding="utf-8") as fh:
        return Contract(json.load(fh))
