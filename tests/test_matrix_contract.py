"""What the bridge sends to Matrix validates against the official event schemas."""

from __future__ import annotations

from bridge.model import MatrixText
from tests.matrix_spec import event_example, schema_errors

TEXT_SCHEMA = "m.room.message$m.text.yaml"


def as_event(content: dict[str, object]) -> dict[str, object]:
    base = event_example("m.room.message$m.text.yaml")
    return {**base, "content": content}


def test_validator_accepts_the_spec_example_and_rejects_broken_events() -> None:
    example = event_example("m.room.message$m.text.yaml")
    assert schema_errors(TEXT_SCHEMA, example) == []
    broken = {**example, "content": {"msgtype": "m.text"}}
    assert any("body" in err for err in schema_errors(TEXT_SCHEMA, broken))
    wrong_type = {**example, "content": {"msgtype": "m.text", "body": 5}}
    assert schema_errors(TEXT_SCHEMA, wrong_type)


def test_plain_text_content_is_valid() -> None:
    content = MatrixText(body="hello").to_content()
    assert schema_errors(TEXT_SCHEMA, as_event(content)) == []


def test_formatted_content_is_valid_and_carries_format() -> None:
    content = MatrixText(body="*hi*", formatted_body="<em>hi</em>").to_content()
    assert content["format"] == "org.matrix.custom.html"
    assert schema_errors(TEXT_SCHEMA, as_event(content)) == []
