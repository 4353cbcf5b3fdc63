"""Splitting long Discord markdown into message-sized chunks without breaking markup."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bridge.convert.m2d.split import split_discord_markdown

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "formatting"
REOPEN = re.compile(r"^(?:>>> )?```[a-z0-9_+\-.#]*\n?", re.I)
CLOSE = re.compile(r"\n?```$")


def _match_at(original: str, position: int, piece: str) -> int | None:
    """End of ``piece`` in ``original`` if it follows ``position`` after whitespace only."""
    piece = piece.strip("\n")
    k = position
    while k < len(original) and not original.startswith(piece, k):
        if not original[k].isspace():
            return None
        k += 1
    return k + len(piece) if original.startswith(piece, k) else None


def assert_preserved(chunks: list[str], original: str) -> None:
    """Chunks, minus the fences/quote marker the splitter may add at a cut, appear in
    order in the original with only whitespace between them."""
    position = 0
    for index, chunk in enumerate(chunks):
        variants = [chunk]
        if index:
            variants.append(REOPEN.sub("", chunk, count=1))
        variants += [CLOSE.sub("", variant) for variant in variants]
        ends = [_match_at(original, position, variant) for variant in variants]
        found = [end for end in ends if end is not None]
        assert found, chunk[:80]
        position = found[0]
    assert original[position:].strip() == ""


def fence_balanced(chunk: str) -> bool:
    return chunk.count("```") % 2 == 0


def test_short_text_is_one_chunk() -> None:
    assert split_discord_markdown("hello **world**") == ["hello **world**"]
    assert split_discord_markdown("x" * 2000) == ["x" * 2000]
    assert split_discord_markdown("   \n") == []


def test_prefers_paragraph_breaks() -> None:
    text = "A" * 60 + " a\n" + "B" * 30 + "\n\n" + "C" * 40 + " c\nD" * 5
    chunks = split_discord_markdown(text, 100)
    assert chunks[0] == "A" * 60 + " a\n" + "B" * 30
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert_preserved(chunks, text)


def test_then_line_breaks_then_words() -> None:
    lines = "\n".join(f"line {i:02d} with some words" for i in range(20))
    chunks = split_discord_markdown(lines, 100)
    assert all(chunk.startswith("line ") for chunk in chunks)
    assert all(len(chunk) <= 100 for chunk in chunks)
    assert_preserved(chunks, lines)
    words = " ".join(f"word{i}" for i in range(100))
    chunks = split_discord_markdown(words, 100)
    assert all(re.fullmatch(r"word\d+( word\d+)*", chunk) for chunk in chunks)
    assert " ".join(chunks) == words


def test_hard_cut_when_no_breaks() -> None:
    text = "y" * 250
    chunks = split_discord_markdown(text, 100)
    assert chunks == ["y" * 100, "y" * 100, "y" * 50]


@pytest.mark.parametrize(
    "protected",
    [
        "`inline code with many spaces inside it`",
        "[a masked link with spaces](https://example.com/some/long/path)",
        "https://example.com/a/very/long/url/that/should/not/break",
        "<t:1618953630:F>",
        "<:custom_emoji_name:123456789012345678>",
    ],
)
def test_never_cuts_inside_protected_spans(protected: str) -> None:
    for pad in range(30, 90, 7):
        text = "w " * pad + protected + " tail words here" * 3
        chunks = split_discord_markdown(text, 100)
        assert all(len(chunk) <= 100 for chunk in chunks)
        assert any(protected in chunk for chunk in chunks), (pad, chunks)
        assert_preserved(chunks, text)


def test_code_block_is_closed_and_reopened_with_language() -> None:
    code = "\n".join(f"value_{i} = compute(**args)  # *not* markdown" for i in range(40))
    text = f"Here is the script:\n```python\n{code}\n```\nThat's all."
    chunks = split_discord_markdown(text, 300)
    assert len(chunks) > 3
    assert all(len(chunk) <= 300 for chunk in chunks)
    assert all(fence_balanced(chunk) for chunk in chunks)
    for chunk in chunks[1:-1]:
        assert chunk.startswith("```python\n")
        assert chunk.endswith("\n```")
    # The code itself comes back intact when the pieces are re-joined.
    bodies = [re.search(r"```python\n(.*?)\n?```", chunk, re.S) for chunk in chunks]
    joined = "\n".join(m.group(1).strip("\n") for m in bodies if m)
    assert joined == code
    assert_preserved(chunks, text)


def test_code_block_without_language_reopens_plain() -> None:
    code = "\n".join(f"{i:03d} " + "z" * 40 for i in range(20))
    chunks = split_discord_markdown(f"```\n{code}\n```", 200)
    assert len(chunks) > 1
    assert all(fence_balanced(chunk) and len(chunk) <= 200 for chunk in chunks)
    assert all(chunk.startswith("```\n") for chunk in chunks)


def test_long_code_line_is_hard_cut_with_fences() -> None:
    text = "```sh\n" + "x" * 500 + "\n```"
    chunks = split_discord_markdown(text, 200)
    assert all(len(chunk) <= 200 and fence_balanced(chunk) for chunk in chunks)
    assert "".join(re.sub(r"\n?```(sh\n)?", "", chunk) for chunk in chunks) == "x" * 500


def test_quote_all_is_reopened() -> None:
    text = ">>> " + "\n".join(f"quoted line {i}" for i in range(30))
    chunks = split_discord_markdown(text, 120)
    assert len(chunks) > 1
    assert all(chunk.startswith(">>> ") for chunk in chunks)
    assert all(len(chunk) <= 120 for chunk in chunks)


def test_per_line_quotes_survive_line_cuts() -> None:
    text = "\n".join(f"> quoted line number {i}" for i in range(30))
    chunks = split_discord_markdown(text, 120)
    assert all(line.startswith("> ") for chunk in chunks for line in chunk.split("\n"))
    assert "\n".join(chunks) == text


def test_limit_must_leave_room_for_fences() -> None:
    with pytest.raises(ValueError):
        split_discord_markdown("x" * 100, 8)


def test_real_world_long_message() -> None:
    text = json.loads((FIXTURES / "long_messages.json").read_text())["help_post"]
    chunks = split_discord_markdown(text)
    assert len(chunks) >= 2
    assert all(len(chunk) <= 2000 for chunk in chunks)
    assert all(fence_balanced(chunk) for chunk in chunks)
    assert_preserved(chunks, text)
