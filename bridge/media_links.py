"""Signed public links to Matrix media, served by the bridge itself.

Discord fetches webhook avatars (and people open links to files too large to
upload) without Matrix credentials, while homeservers now require them for
media (authenticated media). So the bridge serves the media it links to at
``{public_media_url}/_passerelle/media/{server}/{media_id}/{signature}/{filename}``
and fetches it from the homeserver with its own token. The signature is an
HMAC of the media ID under a key derived from the appservice token: only
media the bridge itself linked can be fetched, so the endpoint is no open
proxy to the homeserver's media repository. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import quote

__all__ = ["MEDIA_PATH_PREFIX", "link_key", "media_link", "parse_mxc", "signature", "verify"]

MEDIA_PATH_PREFIX = "/_passerelle/media"
_MXC = re.compile(r"^mxc://([A-Za-z0-9.:\-\[\]]+)/([A-Za-z0-9_-]+)$")
_SIGNATURE_HEX = 32


def link_key(as_token: str) -> bytes:
    """The signing key: derived from the appservice token, stable across restarts."""
    return hashlib.sha256(b"passerelle media links\x00" + as_token.encode()).digest()


def parse_mxc(mxc: str) -> tuple[str, str] | None:
    match = _MXC.match(mxc)
    return (match.group(1), match.group(2)) if match else None


def signature(key: bytes, server: str, media_id: str) -> str:
    digest = hmac.new(key, f"{server}/{media_id}".encode(), hashlib.sha256).hexdigest()
    return digest[:_SIGNATURE_HEX]


def verify(key: bytes, server: str, media_id: str, given: str) -> bool:
    return hmac.compare_digest(signature(key, server, media_id), given)


def media_link(base_url: str | None, key: bytes, mxc: str, filename: str = "file") -> str | None:
    """The public link of an ``mxc://`` URI; None without a base URL or for a bad URI."""
    parsed = parse_mxc(mxc)
    if not base_url or parsed is None:
        return None
    server, media_id = parsed
    name = quote(filename.replace("/", "_") or "file", safe="")
    return (
        f"{base_url.rstrip('/')}{MEDIA_PATH_PREFIX}/{quote(server, safe='')}/{media_id}/"
        f"{signature(key, server, media_id)}/{name}"
    )
