"""Signed public media links: only what the bridge linked can be fetched."""

from __future__ import annotations

import pytest

from bridge.media_links import link_key, media_link, parse_mxc, signature, verify

KEY = link_key("as-token-1")


def test_link_shape_and_signature() -> None:
    link = media_link("https://bridge.example.org/", KEY, "mxc://example.org/AbC_1-x", "cat.png")
    sig = signature(KEY, "example.org", "AbC_1-x")
    assert link == f"https://bridge.example.org/_passerelle/media/example.org/AbC_1-x/{sig}/cat.png"
    assert verify(KEY, "example.org", "AbC_1-x", sig)


def test_signature_depends_on_media_and_key() -> None:
    sig = signature(KEY, "example.org", "one")
    assert not verify(KEY, "example.org", "two", sig)
    assert not verify(KEY, "other.org", "one", sig)
    assert not verify(link_key("as-token-2"), "example.org", "one", sig)
    assert not verify(KEY, "example.org", "one", sig[:-1] + ("0" if sig[-1] != "0" else "1"))


@pytest.mark.parametrize(
    "mxc", ["", "https://x/y", "mxc://example.org", "mxc://ex/a/b", "mxc://e/a%2F"]
)
def test_bad_uris_give_no_link(mxc: str) -> None:
    assert parse_mxc(mxc) is None
    assert media_link("https://b.example", KEY, mxc) is None


def test_no_base_url_gives_no_link_and_names_are_escaped() -> None:
    assert media_link(None, KEY, "mxc://example.org/abc") is None
    link = media_link("https://b.example", KEY, "mxc://example.org/abc", "a b/c?.txt")
    assert link is not None and link.endswith("/a%20b_c%3F.txt")
