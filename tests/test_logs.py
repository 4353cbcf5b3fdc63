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
