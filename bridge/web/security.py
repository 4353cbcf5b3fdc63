"""Pure security helpers of the members' page: PKCE, state, signed session cookies,
the Content-Security-Policy. No I/O; clocks and randomness are passed in or drawn
from :mod:`secrets`.

A session cookie is ``base64url(json) "." base64url(HMAC-SHA256(key, json))``: the
server keeps nothing, the browser cannot change a byte without breaking the MAC, and
every payload carries its own expiry. Nothing secret goes in it (no Discord or
Matrix token ever does): only who the member is on Discord and their roles, as
Discord told us at login.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import Any

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data: https://cdn.discordapp.com; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636: 43 characters of verifier."""
    verifier = secrets.token_urlsafe(32)
    return verifier, pkce_challenge(verifier)


def pkce_challenge(verifier: str) -> str:
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


def new_state() -> str:
    """The OAuth2 ``state``: unguessable, bound to the browser by the pending cookie."""
    return secrets.token_urlsafe(24)


def same(a: str | None, b: str | None) -> bool:
    """Constant-time equality of two present strings."""
    return a is not None and b is not None and hmac.compare_digest(a, b)


def _key(secret: str, purpose: str) -> bytes:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def sign(secret: str, purpose: str, payload: dict[str, Any], now: float, ttl: float) -> str:
    """A cookie value carrying ``payload`` for ``ttl`` seconds; ``purpose`` separates
    cookies (a login-pending cookie is never accepted as a session)."""
    body = json.dumps({**payload, "exp": int(now + ttl)}, separators=(",", ":")).encode()
    mac = hmac.new(_key(secret, purpose), body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def unsign(secret: str, purpose: str, value: str | None, now: float) -> dict[str, Any] | None:
    """The payload of a cookie made by :func:`sign`; None when absent, forged,
    malformed or expired."""
    if not value or value.count(".") != 1:
        return None
    body_text, mac_text = value.split(".")
    try:
        body, mac = _unb64(body_text), _unb64(mac_text)
    except (ValueError, TypeError):
        return None
    expected = hmac.new(_key(secret, purpose), body, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int):
        return None
    if payload["exp"] <= now:
        return None
    return payload


def client_ip(remote: str | None, forwarded_for: str | None, trust_forwarded: bool) -> str:
    """The client's address: the last X-Forwarded-For hop (set by our reverse proxy)
    when trusted, else the socket's peer."""
    if trust_forwarded and forwarded_for:
        last = forwarded_for.split(",")[-1].strip()
        if last:
            return last
    return remote or "unknown"
