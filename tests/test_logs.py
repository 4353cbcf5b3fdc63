from __future__ import annotations

import logging

import pytest

from bridge.logs import RedactingFilter


def test_secrets_and_webhook_tokens_are_redacted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.redaction")
    handler_filter = RedactingFilter(["super-secret-bot-token"])
    caplog.handler.addFilter(handler_filter)
    try:
        with caplog.at_level(logging.INFO, logger="test.redaction"):
            logger.info("token=%s", "super-secret-bot-token")
            logger.info("POST http://h/api/v10/webhooks/123/AbC-def_ghi.jk?wait=true")
    finally:
        caplog.handler.removeFilter(handler_filter)
    text = caplog.text
    assert "super-secret-bot-token" not in text
    assert "AbC-def_ghi.jk" not in text
    assert "/webhooks/123/[redacted]" in text


def test_json_lines_are_redacted_too(capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from bridge.logs import setup_logging

    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", ["super-secret-bot-token"], "json")
        log = logging.getLogger("test.json")
        log.info("token=%s", "super-secret-bot-token")
        try:
            raise ValueError("boom super-secret-bot-token")
        except ValueError:
            log.exception("failed")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(e["level"], e["logger"], e["message"]) for e in lines] == [
        ("INFO", "test.json", "token=[redacted]"),
        ("ERROR", "test.json", "failed"),
    ]
    assert "ValueError: boom [redacted]" in lines[1]["exception"]
    assert "super-secret-bot-token" not in json.dumps(lines)
