"""Keys the parser never read: misspelt (``sender_brust``) or unknown config keys.

The document is wrapped in mappings that remember every key the parser asks for;
whatever is left in the file afterwards is a key the bridge ignores. The nearest
key asked for at the same place (``difflib``) is the likely intended one. No list
of valid keys to keep in step with the parser: the parser is the list.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bridge.i18n import cli


@dataclass(frozen=True)
class UnknownKey:
    key: str  # full path, e.g. bridge.sender_brust
    suggestion: str | None  # full path of the nearest valid key, if one is close

    def problem(self) -> str:
        if self.suggestion:
            return cli()._("unknown key, ignored; did you mean '{key}'?", key=self.suggestion)
        return cli()._("unknown key, ignored")


class _Asked:
    """Per mapping path: the keys the parser asked for, and the keys present."""

    def __init__(self) -> None:
        self.asked: dict[str, set[str]] = {}
        self.present: dict[str, list[str]] = {}
        # Sections switched off (``enabled: false``): their other keys are not read.
        self.disabled: set[str] = set()


class TrackedMapping(dict[Any, Any]):
    """A dict remembering which keys were looked up (get, [], in, iteration)."""

    def __init__(self, data: dict[Any, Any], path: str, book: _Asked) -> None:
        super().__init__((k, _wrap(v, f"{path}{k}", book)) for k, v in data.items())
        self._path = path
        self._book = book
        book.present.setdefault(path, []).extend(str(k) for k in data)
        if data.get("enabled") is False:
            book.disabled.add(path)

    def _ask(self, key: Any) -> None:
        self._book.asked.setdefault(self._path, set()).add(str(key))

    def _ask_all(self) -> None:  # iterated: every key is used (a free-form mapping)
        for key in dict.keys(self):
            self._ask(key)

    def get(self, key: Any, default: Any = None) -> Any:
        self._ask(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._ask(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._ask(key)
        return super().__contains__(key)

    def __iter__(self) -> Iterator[Any]:
        self._ask_all()
        return super().__iter__()

    def keys(self) -> Any:
        self._ask_all()
        return super().keys()

    def items(self) -> Any:
        self._ask_all()
        return super().items()

    def values(self) -> Any:
        self._ask_all()
        return super().values()


def _wrap(value: Any, path: str, book: _Asked) -> Any:
    if isinstance(value, dict):
        return TrackedMapping(value, f"{path}." if path else "", book)
    if isinstance(value, list):
        return [_wrap(v, f"{path}[{i}]", book) for i, v in enumerate(value)]
    return value


class KeyTracker:
    """``wrap`` the document, parse it, then ``unknown()`` lists what was never read."""

    def __init__(self) -> None:
        self._book = _Asked()

    def wrap(self, data: Any) -> Any:
        return _wrap(data, "", self._book) if isinstance(data, dict) else data

    def unknown(self) -> list[UnknownKey]:
        found = []
        for path, keys in self._book.present.items():
            asked = self._book.asked.get(path, set())
            if any(path.startswith(off) for off in self._book.disabled):
                continue
            if path and path.rstrip(".").rsplit(".", 1)[-1] not in self._parent_asked(path):
                continue  # a whole section the parser skipped (e.g. a feature off)
            for key in keys:
                if key in asked:
                    continue
                valid = sorted(asked - set(keys))
                close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
                found.append(UnknownKey(f"{path}{key}", f"{path}{close[0]}" if close else None))
        return found

    def _parent_asked(self, path: str) -> set[str]:
        """Keys asked in the mapping holding ``path`` (e.g. for 'bridge.spaces.': 'bridge.'
        asked 'spaces'); list items count as asked when their list was."""
        inner = path.rstrip(".")
        head, _, last = inner.rpartition(".")
        parent = f"{head}." if head else ""
        asked = set(self._book.asked.get(parent, set()))
        if "[" in last:  # guilds[0] -> its list 'guilds' was asked
            name = last.split("[", 1)[0]
            if name in asked:
                asked.add(last)
        return asked


def yaml_problem(file: Path, exc: yaml.YAMLError) -> str:
    """``FILE, line N, column M: what is wrong`` (PyYAML names a string ``<unicode
    string>``), with where the enclosing block started when it says so."""
    mark = getattr(exc, "problem_mark", None)
    if mark is None:
        return cli()._("{file} is not valid YAML: {error}", file=file, error=exc)
    problem = getattr(exc, "problem", None) or "invalid YAML"
    # PyYAML's own words (the problem, its context) stay as it writes them (English).
    text = cli()._(
        "{file}, line {line}, column {column}: not valid YAML: {problem}",
        file=file,
        line=mark.line + 1,
        column=mark.column + 1,
        problem=problem,
    )
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if context and context_mark is not None and context_mark.line != mark.line:
        text += " " + cli()._(
            "({context} at line {line})", context=context, line=context_mark.line + 1
        )
    return text
