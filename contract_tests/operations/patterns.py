"""Strings that match a pattern of schemas/, drawn fast.

Hypothesis's ``from_regex`` takes milliseconds an example; the patterns of schemas/ are simple
(literals, character classes, groups with ``|``, the quantifiers ``* + ? {n} {n,m}``, anchors),
so this module reads that much of a pattern into plain strategies: a class becomes a choice
among the characters it allows. A pattern it cannot read raises ``UnsupportedPattern`` (the
caller falls back to ``from_regex``). What it draws is only likely to match: values are kept
only when jsonschema-rs, which reads ECMA-262 patterns, agrees.
"""

from __future__ import annotations

import re
from functools import cache

from hypothesis import strategies as st

UNIVERSE = (*(chr(code) for code in range(0x20, 0x3000)), "\U0001fa7b", "\U0001f600")
"""The characters a class is tested against to list what it allows."""
OPEN_REPEAT = 3
"""How many more repeats than its minimum an open quantifier (``*``, ``+``, ``{n,}``) draws."""
QUANTIFIER = re.compile(r"\{(\d+)(,(\d*))?\}")


class UnsupportedPattern(ValueError):
    """A pattern with a construct this module does not read."""


Strings = st.SearchStrategy[str]
Alphabet = str | st.SearchStrategy[str]
"""What ``st.text`` draws characters from: a string of them, or a strategy."""
LINE_ENDS = "\n\r\u2028\u2029"
"""What ECMA-262's ``.`` does not match."""


@cache
def class_members(cls: str, allowed: str | None, excluded: str) -> tuple[str, ...]:
    """The characters of the universe (or of ``allowed``) a class matches, less ``excluded``."""
    pool = allowed if allowed is not None else UNIVERSE
    try:
        compiled = re.compile(cls, re.DOTALL)
    except re.error as exc:
        raise UnsupportedPattern(f"cannot read the class {cls!r}: {exc}") from exc
    return tuple(c for c in pool if c not in excluded and compiled.fullmatch(c))


class _Reader:
    """A recursive-descent reader of one pattern into a strategy."""

    def __init__(self, pattern: str, allowed: str | None, excluded: str) -> None:
        self.text = pattern
        self.at = 0
        self.allowed = allowed
        self.excluded = excluded

    def read(self) -> Strings:
        if self.text.startswith("^"):
            self.at = 1
        found = self.alternatives()
        if self.text[self.at :] not in ("", "$"):
            raise UnsupportedPattern(f"cannot read {self.text!r} at {self.at}")
        return found

    def alternatives(self) -> Strings:
        options = [self.sequence()]
        while self.peek() == "|":
            self.at += 1
            options.append(self.sequence())
        return options[0] if len(options) == 1 else st.one_of(options)

    def sequence(self) -> Strings:
        parts: list[Strings] = []
        while self.peek() not in ("", "|", ")") and self.text[self.at :] != "$":
            parts.append(self.quantified(*self.atom()))
        if not parts:
            return st.just("")
        if len(parts) == 1:
            return parts[0]
        return st.tuples(*parts).map("".join)

    def atom(self) -> tuple[Strings, Alphabet | None]:
        """The next atom, and the characters it is one of (None: a group)."""
        char = self.peek()
        if char == "(":
            self.at += 1
            if self.text.startswith("?:", self.at):
                self.at += 2
            inner = self.alternatives()
            self.expect(")")
            return inner, None
        if char == "[":
            end = self._class_end()
            cls = self.text[self.at : end + 1]
            self.at = end + 1
            return self._members(cls)
        if char == "\\":
            escaped = self.text[self.at : self.at + 2]
            self.at += 2
            if escaped[1:].isalnum():
                return self._members(escaped)
            return st.just(escaped[1:]), escaped[1:]
        if char == ".":
            self.at += 1
            return self._members(".")
        if char and char in "*+?{":
            raise UnsupportedPattern(f"a quantifier without an atom in {self.text!r}")
        self.at += 1
        return st.just(char), char

    def quantified(self, atom: Strings, members: Alphabet | None) -> Strings:
        char = self.peek()
        low, high = 1, 1
        if char and char in "*+?":
            self.at += 1
            low, high = {"*": (0, OPEN_REPEAT), "+": (1, 1 + OPEN_REPEAT), "?": (0, 1)}[char]
        elif char == "{":
            shape = QUANTIFIER.match(self.text, self.at)
            if shape is None:
                raise UnsupportedPattern(f"cannot read the quantifier in {self.text!r}")
            self.at = shape.end()
            low = int(shape.group(1))
            high = (
                low
                if shape.group(2) is None
                else (int(shape.group(3)) if shape.group(3) else low + OPEN_REPEAT)
            )
        else:
            return atom
        if self.peek() in ("?", "+"):
            raise UnsupportedPattern(f"lazy or possessive quantifiers in {self.text!r}")
        if members is not None:
            # One draw for the whole run (st.text), not one a character.
            if isinstance(members, str) and not members:
                return st.just("") if low == 0 else st.nothing()
            return st.text(members, min_size=low, max_size=high)
        return st.lists(atom, min_size=low, max_size=high).map("".join)

    def _members(self, cls: str) -> tuple[Strings, Alphabet]:
        """One character of the class, and the class as an alphabet. A class of many
        characters (a negated one, ``.``) is a ``characters`` strategy, not a list of them:
        hypothesis writes a strategy's repr when a draw gives up, and a list of thousands of
        characters makes that slow (and a warning)."""
        if self.allowed is None and (cls == "." or cls.startswith("[^")):
            inner = LINE_ENDS if cls == "." else "".join(class_members("[" + cls[2:], None, ""))
            chars = st.characters(
                exclude_categories=["Cs"], exclude_characters=inner + self.excluded
            )
            return chars, chars
        members = class_members(cls, self.allowed, self.excluded)
        return (st.sampled_from(members) if members else st.nothing()), "".join(members)

    def _class_end(self) -> int:
        i = self.at + 1
        if self.text.startswith("^", i):
            i += 1
        if self.text.startswith("]", i):
            i += 1
        while i < len(self.text):
            if self.text[i] == "\\":
                i += 2
                continue
            if self.text[i] == "]":
                return i
            i += 1
        raise UnsupportedPattern(f"an unclosed class in {self.text!r}")

    def peek(self) -> str:
        return self.text[self.at] if self.at < len(self.text) else ""

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise UnsupportedPattern(f"expected {char!r} at {self.at} in {self.text!r}")
        self.at += 1


def matching(pattern: str, allowed: str | None = None, excluded: str = "") -> Strings:
    """Strings likely to match ``pattern`` in full, of the ``allowed`` characters (None: any
    of the universe) less the ``excluded`` ones."""
    return _Reader(pattern, allowed, excluded).read()
