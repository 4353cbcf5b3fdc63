"""OAuth2 state of the emulator: the client, browser logins, codes and access tokens.

Pure bookkeeping (no HTTP): :mod:`sandbox.discord.oauth2` serves the pages and the
token endpoint from it. Codes live 10 minutes and are used once, as Discord's are;
access tokens carry their scopes and a user ID.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from dataclasses import dataclass, field

CODE_TTL = 600.0
TOKEN_TTL = 604800  # seconds, what Discord answers in expires_in
SUPPORTED_SCOPES = frozenset({"identify", "guilds.members.read", "guilds", "email"})


def s256(verifier: str) -> str:
    """PKCE S256: BASE64URL(SHA256(verifier)) without padding (RFC 7636)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass
class Grant:
    code: str
    user_id: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    challenge: str | None
    challenge_method: str | None
    expires: float


@dataclass
class AccessToken:
    token: str
    user_id: str
    scopes: tuple[str, ...]
    expires: float


@dataclass
class OAuth2State:
    """The application's OAuth2 client (its ID is the seed application's) and what
    browsers and clients did with it."""

    client_id: str = ""
    client_secret: str = "emulator-oauth2-secret"
    # Registered redirect URIs; the authorize and token requests must name one exactly.
    redirect_uris: set[str] = field(default_factory=set)
    # Browser sessions of the consent page: cookie value -> user ID.
    sessions: dict[str, str] = field(default_factory=dict)
    grants: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, AccessToken] = field(default_factory=dict)

    def login(self, user_id: str) -> str:
        """A browser session for ``user_id`` on the consent page; its cookie value."""
        cookie = secrets.token_urlsafe(24)
        self.sessions[cookie] = user_id
        return cookie

    def grant(
        self,
        user_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        challenge: str | None,
        challenge_method: str | None,
        now: float | None = None,
    ) -> str:
        code = secrets.token_urlsafe(24)
        at = time.monotonic() if now is None else now
        self.grants[code] = Grant(
            code,
            user_id,
            self.client_id,
            redirect_uri,
            scopes,
            challenge,
            challenge_method,
            at + CODE_TTL,
        )
        return code

    def exchange(
        self, code: str, redirect_uri: str, verifier: str | None, now: float | None = None
    ) -> AccessToken | str:
        """Trade a code for a token; the OAuth2 error code (``invalid_grant``) when refused.
        The code is gone either way (used once)."""
        grant = self.grants.pop(code, None)
        at = time.monotonic() if now is None else now
        if grant is None or grant.expires <= at or grant.redirect_uri != redirect_uri:
            return "invalid_grant"
        if grant.challenge is not None:
            if verifier is None:
                return "invalid_request"
            method = grant.challenge_method or "plain"
            computed = s256(verifier) if method == "S256" else verifier
            if not secrets.compare_digest(computed, grant.challenge):
                return "invalid_grant"
        token = AccessToken(secrets.token_urlsafe(24), grant.user_id, grant.scopes, at + TOKEN_TTL)
        self.tokens[token.token] = token
        return token

    def bearer(self, token: str, now: float | None = None) -> AccessToken | None:
        found = self.tokens.get(token)
        at = time.monotonic() if now is None else now
        if found is None or found.expires <= at:
            return None
        return found
