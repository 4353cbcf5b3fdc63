"""Discord-shaped REST errors: an HTTP status plus ``{"code": ..., "message": ...}``."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Raised by handlers; the error middleware turns it into Discord's JSON error."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


class Slowmode(ApiError):
    """A message within the channel's slowmode: 429, code 20016, with ``retry_after``."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(429, 20016, "This action cannot be performed due to slowmode rate limit.")
        self.retry_after = retry_after


def unauthorized() -> ApiError:
    return ApiError(401, 0, "401: Unauthorized")


def not_found() -> ApiError:
    return ApiError(404, 0, "404: Not Found")


def method_not_allowed() -> ApiError:
    return ApiError(405, 0, "405: Method Not Allowed")


def unknown_guild() -> ApiError:
    return ApiError(404, 10004, "Unknown Guild")


def unknown_channel() -> ApiError:
    return ApiError(404, 10003, "Unknown Channel")


def unknown_member() -> ApiError:
    return ApiError(404, 10007, "Unknown Member")


def unknown_message() -> ApiError:
    return ApiError(404, 10008, "Unknown Message")


def unknown_user() -> ApiError:
    return ApiError(404, 10013, "Unknown User")


def unknown_webhook() -> ApiError:
    return ApiError(404, 10015, "Unknown Webhook")


def unknown_role() -> ApiError:
    return ApiError(404, 10011, "Unknown Role")


def unknown_ban() -> ApiError:
    return ApiError(404, 10026, "Unknown Ban")


def unknown_emoji() -> ApiError:
    return ApiError(400, 10014, "Unknown Emoji")


def invalid_webhook_token() -> ApiError:
    return ApiError(401, 50027, "Invalid Webhook Token")


def missing_access() -> ApiError:
    return ApiError(403, 50001, "Missing Access")


def missing_permissions() -> ApiError:
    return ApiError(403, 50013, "Missing Permissions")


def other_users_message() -> ApiError:
    return ApiError(403, 50005, "Cannot edit a message authored by another user")


def dm_channel_action() -> ApiError:
    """Guild-only actions (overwrites, webhooks, threads, pins ...) on a DM channel."""
    return ApiError(400, 50003, "Cannot execute action on a DM channel")


def cannot_message_user() -> ApiError:
    """A DM to yourself, or to a user who shares no guild with you."""
    return ApiError(403, 50007, "Cannot send messages to this user")


def empty_message() -> ApiError:
    return ApiError(400, 50006, "Cannot send an empty message")


def too_large() -> ApiError:
    return ApiError(413, 40005, "Request entity too large")


INVALID_FORM_BODY = 50035


def invalid_form(field: str, code: str, message: str) -> ApiError:
    """50035 with Discord's nested ``errors`` object for one field (dotted path).

    Discord itself puts a string such as ``BASE_TYPE_MAX_LENGTH`` in each
    ``_errors[].code``; its OpenAPI spec documents an integer there, and the
    emulator follows the spec: ``code`` is 50035 and the string is kept in
    the message (``"BASE_TYPE_MAX_LENGTH: Must be 2000 or fewer in length."``).
    """
    detail = {"code": INVALID_FORM_BODY, "message": f"{code}: {message}"}
    node: dict[str, Any] = {"_errors": [detail]}
    for part in reversed(field.split(".")):
        node = {part: node}
    return ApiError(400, INVALID_FORM_BODY, "Invalid Form Body", node)
