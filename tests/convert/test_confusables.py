"""TR39 skeletons and name clashes, with real confusables from Unicode's data."""

from __future__ import annotations

import pytest

from bridge.convert.confusables import UNICODE_VERSION, NameIndex, confusable, name_keys, skeleton

CYRILLIC_A = "\u0430"
CYRILLIC_O = "\u043e"
FULLWIDTH_ALICE = "\uff41\uff4c\uff49\uff43\uff45"


def test_data_is_a_recent_unicode() -> None:
    major = int(UNICODE_VERSION.split(".")[0])
    assert major >= 15


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alice", "alice"),
        (CYRILLIC_A + "lice", "alice"),  # Cyrillic a -> Latin a
        ("m", "rn"),  # TR39 maps m to its prototype "rn"
        ("rn", "rn"),
        (FULLWIDTH_ALICE, "alice"),
        ("0", "O"),  # digit zero looks like capital O
        ("1", "l"),
        ("I", "l"),
        ("b" + CYRILLIC_O + "b", "bob"),
        ("al\u200bice", "alice"),  # a zero-width space is default-ignorable
    ],
)
def test_skeleton(text: str, expected: str) -> None:
    assert skeleton(text) == expected


def test_skeleton_is_nfd() -> None:
    # é precomposed and e + combining acute have one skeleton, unlike plain e.
    assert skeleton("\u00e9") == skeleton("e\u0301")
    assert skeleton("\u00e9") != skeleton("e")


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("alice", CYRILLIC_A + "lice"),
        ("bob", "b" + CYRILLIC_O + "b"),
        ("Alice", "alice"),  # case does not matter
        ("ALICE", FULLWIDTH_ALICE),
        ("Ilya", "llya"),  # capital I looks like small l
        ("mary", "rnary"),
        ("bob ", " bob"),  # spaces squeezed as in every shown name
        ("b\u202eob", "bob"),  # direction overrides dropped
    ],
)
def test_confusable_pairs(a: str, b: str) -> None:
    assert confusable(a, b) and confusable(b, a)


@pytest.mark.parametrize(("a", "b"), [("alice", "alicia"), ("bob", "rob"), ("é", "e")])
def test_different_names_do_not_clash(a: str, b: str) -> None:
    assert not confusable(a, b)


def test_blank_names_have_no_keys() -> None:
    assert name_keys("") == frozenset() and name_keys("\u200b") == frozenset()
    assert name_keys(None) == frozenset()
    assert not confusable("", "")


def test_index_finds_others_not_oneself() -> None:
    index = NameIndex.of(
        [
            ("@alice:example.org", ["alice"]),
            ("discord:1", ["Bobby", "Bob", "bob_the_builder"]),
            ("bridge", ["Passerelle"]),
        ]
    )
    assert not index.clashes("@alice:example.org", "Alice")  # her own name
    assert index.clashes("@mallory:example.org", CYRILLIC_A + "lice")
    assert index.clashes("@mallory:example.org", "b" + CYRILLIC_O + "b")
    assert not index.clashes("discord:1", "bob")  # Bob's other names are his own
    assert index.clashes("discord:2", "PASSERELLE")
    assert not index.clashes("@carol:example.org", "carol")


def test_index_two_holders_of_one_name_both_clash() -> None:
    index = NameIndex()
    index.add("@alice:one.org", "alice")
    index.add("@alice:two.org", "alice")
    assert index.clashes("@alice:one.org", "alice")
    assert index.clashes("@alice:two.org", "alice")
    assert len(index) == 1  # alice and its case-folded form share one skeleton


def test_index_forgets_who_left() -> None:
    index = NameIndex()
    index.add("@alice:one.org", "alice")
    index.add("@alice:two.org", "\u0430lice")
    index.add("discord:1", "Alice")
    index.remove("@alice:two.org")
    assert index.holders("alice") == {"@alice:one.org", "discord:1"}
    index.remove("discord:1")
    index.remove("discord:404")  # never there: nothing happens
    assert not index.clashes("@alice:one.org", "alice")
    index.remove("@alice:one.org")
    assert len(index) == 0
