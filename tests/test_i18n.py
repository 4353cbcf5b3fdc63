"""The message catalogs: complete, current, translated in French, placeholders intact;
and the translator's language choice and formats."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from bridge.i18n import LANGUAGES, for_locale, normalize, translator

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "bridge" / "locale"
PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")

MessageId = str | tuple[str, str]


def extracted() -> dict[tuple[MessageId, str | None], str]:
    """What the code marks for translation (babel.cfg), keyed by (msgid, context),
    with where it was found."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[MessageId, str | None], str] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=DEFAULT_KEYWORDS
    ):
        key = message if isinstance(message, str) else (message[0], message[1])
        found.setdefault((key, context), f"{filename}:{lineno}")
    return found


def catalog(language: str) -> Catalog:
    with (LOCALE / language / "LC_MESSAGES" / "passerelle.po").open("rb") as po:
        return read_po(po, locale=language)


def messages(cat: Catalog) -> Iterator[Message]:
    return (m for m in cat if m.id)


def key(message: Message) -> tuple[MessageId, str | None]:
    mid = message.id if isinstance(message.id, str) else (message.id[0], message.id[1])
    return mid, message.context


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_in_the_catalog_and_none_is_stale(language: str) -> None:
    code = extracted()
    cat = catalog(language)
    in_catalog = {key(m) for m in messages(cat)}
    missing = sorted(f"{where}: {k[0]!r}" for k, where in code.items() if k not in in_catalog)
    stale = sorted(repr(k[0]) for k in in_catalog - set(code))
    obsolete = sorted(repr(m.id) for m in cat.obsolete.values())
    fuzzy = sorted(repr(m.id) for m in messages(cat) if m.fuzzy)
    hint = " (run `make catalogs`, then translate)"
    assert not missing, f"missing from {language}{hint}:\n" + "\n".join(missing)
    assert not stale, f"stale in {language}{hint}:\n" + "\n".join(stale)
    assert not obsolete, f"obsolete entries in {language}{hint}:\n" + "\n".join(obsolete)
    assert not fuzzy, f"fuzzy (unchecked) entries in {language}{hint}:\n" + "\n".join(fuzzy)


def test_every_message_has_a_french_translation_with_the_same_placeholders() -> None:
    problems = []
    for message in messages(catalog("fr")):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if not all(strings):
            problems.append(f"untranslated: {ids[0]!r}")
            continue
        wanted = set().union(*(placeholders(i) for i in ids))
        for text in strings:
            got = placeholders(text)
            # A plural's singular may spell the count out ("une règle"): {n} optional there.
            if got != wanted and not (len(ids) > 1 and got | {"n"} == wanted):
                problems.append(f"placeholders {sorted(got)} != {sorted(wanted)}: {ids[0]!r}")
    assert not problems, "\n".join(problems)


def test_english_translations_if_any_keep_the_placeholders() -> None:
    for message in messages(catalog("en")):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        wanted = set().union(*(placeholders(i) for i in ids))
        for text in filter(None, strings):
            assert placeholders(text) == wanted, ids[0]


def test_language_choice() -> None:
    assert normalize("fr-FR") == "fr" and normalize("en-US") == "en" and normalize("en_GB") == "en"
    assert normalize("de") == "en" and normalize(None, "fr") == "fr"
    # Discord's locale on an interaction wins; unknown ones fall back to the configured one.
    assert for_locale("en-GB", "fr").language == "en"
    assert for_locale("de", "fr").language == "fr"
    assert for_locale(None, "fr").language == "fr"
    assert translator("fr") is translator("fr")


def test_french_sentences_plurals_numbers_and_dates() -> None:
    fr, en = translator("fr"), translator("en")
    assert fr._("No shared bans.") != "No shared bans."
    assert en._("No shared bans.") == "No shared bans."
    assert en.ngettext("{n} shared ban:", "{n} shared bans:", 1) == "1 shared ban:"
    assert en.ngettext("{n} shared ban:", "{n} shared bans:", 1200) == "1,200 shared bans:"
    assert fr.ngettext("{n} shared ban:", "{n} shared bans:", 1) == "1 bannissement partagé :"
    assert fr.ngettext("{n} shared ban:", "{n} shared bans:", 2) == "2 bannissements partagés :"
    assert fr.number(1200) == "1\u202f200"
    when = datetime(2026, 3, 14, 15, 9, tzinfo=UTC)
    assert "mars" in fr.datetime(when, "long") and "March" in en.datetime(when, "long")
    assert fr.join(["HQ", "Nord", "Yvelines"]) == "HQ, Nord et Yvelines"
    assert fr.pgettext("command", "help") == "aide"


# Words that are the same in French: proper nouns, protocol words, commands.
SAME_IN_FRENCH = frozenset(
    {
        "Discord",
        "Matrix",
        "Passerelle",
        "{p} help",
        "public",
        "Image",
        "{name} (Matrix, {id})",
    }
)


def test_no_french_translation_is_just_the_english_text() -> None:
    """A French entry equal to its English one is a sentence left untranslated
    (except the proper nouns and commands above)."""
    same = []
    for message in messages(catalog("fr")):
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if any(text in ids for text in strings) and ids[0] not in SAME_IN_FRENCH:
            same.append(repr(ids[0]))
    assert not same, "French entries identical to the English:\n" + "\n".join(same)


# Calls whose text arguments reach a person (a room, a DM, a Discord audit log, the
# terminal), and keyword arguments that do.
PEOPLE_SINKS = frozenset(
    {"notice", "send_dm", "post", "print", "ok", "warn", "fail", "skip", "ConfigError"}
)
PEOPLE_KEYWORDS = frozenset({"reason", "actor", "help", "description", "detail", "hint"})
# Literal texts that reach people on purpose untranslated (protocol words, names).
LEFT_AS_IS = frozenset(
    {
        "Passerelle Matrix bridge",  # the webhook's audit-log reason: the product's name
        "Matrix thread",  # a thread's audit-log reason when a Matrix thread opens one
        "(top level)",  # a config key's place, like "bridge.language"
    }
)
SENTENCE = re.compile(r"[A-Za-z]{2,}\s+[A-Za-z]{2,}")


def _literal_text(node: object) -> str | None:
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
    return None


def test_no_sentence_reaches_people_without_the_catalogs() -> None:
    """A literal English sentence handed to something people read (a notice, a DM, a
    Discord post or audit-log reason, a doctor line, a config error, the terminal)
    must go through tr._()/cli()._() instead."""
    import ast

    found = []
    for package in ("bridge", "moderation"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
                values = list(node.args) if name in PEOPLE_SINKS else []
                values += [k.value for k in node.keywords if k.arg in PEOPLE_KEYWORDS]
                for value in values:
                    text = _literal_text(value)
                    if text and SENTENCE.search(text) and text not in LEFT_AS_IS:
                        where = f"{path.relative_to(ROOT)}:{value.lineno}"
                        found.append(f"{where}: {text!r}")
    assert not found, "untranslated sentences sent to people:\n" + "\n".join(found)
