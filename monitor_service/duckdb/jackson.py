"""JSON parsed the way Spark's `from_json` (Jackson, Spark's default JSON options) reads it.

The DuckDB engine must produce the same values as the Spark engine, and Spark turns JSON
tokens into text in its own way: a number read into a string field is re-written by Jackson
(`1.50` -> `1.5`, `1E5` -> `100000.0`, `2e-7` -> `2.0E-7`, Java's `Double.toString` layout),
a nested object or list becomes minified JSON text, and the parser is lenient where Spark's
defaults make it so: single-quoted strings, `NaN` / `Infinity`, and content after the root
value (ignored). This module reproduces those rules for the lines the SQL fast path leaves to
Python. Values are kept as parsed tokens (`JObject` keeps duplicate keys and their order), so
each payload text is parsed once and rendered as Spark renders it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Union

from monitor_service.core.violations import format_double

WHITESPACE = " \t\n\r"


@dataclass(frozen=True)
class JNum:
    """A number token and its text as Jackson writes it back."""

    text: str


@dataclass(frozen=True)
class JObject:
    """A JSON object: its (key, value) pairs in document order, duplicates kept."""

    pairs: tuple[tuple[str, Any], ...]


JValue = Union[None, bool, str, JNum, JObject, list]  # noqa: UP007 (a runtime alias)


class JsonSyntaxError(ValueError):
    """The text is not JSON that Spark's parser accepts."""


def java_double(value: float) -> str:
    """Java's `Double.toString` of a double (the layout Jackson writes numbers back in).

    Java 17 prints a handful of doubles with one more digit than the shortest form (e.g. 2e23
    as 1.9999999999999998E23); those few stay in their shortest form here.
    """
    return format_double(value)


def _int_text(token: str) -> JNum:
    return JNum(str(int(token)))


def _float_text(token: str) -> JNum:
    return JNum(java_double(float(token)))


def _constant(token: str) -> JNum:
    return JNum({"NaN": "NaN", "Infinity": "Infinity", "-Infinity": "-Infinity"}[token])


def _pairs(pairs: list[tuple[str, Any]]) -> JObject:
    return JObject(tuple(pairs))


_DECODER = json.JSONDecoder(object_pairs_hook=_pairs, parse_float=_float_text, parse_int=_int_text,
                            parse_constant=_constant)


@lru_cache(maxsize=8192)
def parse(text: str) -> JValue:
    """The root value of `text` (leading whitespace skipped, anything after the root ignored)."""
    start = 0
    while start < len(text) and text[start] in WHITESPACE:
        start += 1
    if start == len(text):
        raise JsonSyntaxError("no JSON value")
    try:
        value, _ = _DECODER.raw_decode(text, start)
        return value
    except json.JSONDecodeError as exc:
        if "'" not in text and "+" not in text:
            raise JsonSyntaxError(str(exc)) from None
    return _Lenient(text, start).root()


def try_parse(text: str | None) -> tuple[bool, JValue]:
    """(True, value) when `text` is JSON Spark reads, else (False, None)."""
    if text is None:
        return False, None
    try:
        return True, parse(text)
    except JsonSyntaxError:
        return False, None
    except RecursionError:
        return False, None


def to_text(value: JValue) -> str | None:
    """The text of a value read into a Spark string field (strings unquoted, others as JSON)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return to_json(value)


def to_json(value: JValue) -> str:
    """Minified JSON as Jackson writes it (numbers in Java's form, non-ASCII unescaped)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, JNum):
        return value.text
    if isinstance(value, str):
        return quote(value)
    if isinstance(value, JObject):
        return "{" + ",".join(f"{quote(k)}:{to_json(v)}" for k, v in value.pairs) + "}"
    return "[" + ",".join(to_json(v) for v in value) + "]"


_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def quote(text: str) -> str:
    """A JSON string literal with Jackson's escapes (short forms, else \\u00XX upper case)."""
    return '"' + _NEEDS_ESCAPE.sub(lambda m: _ESCAPES.get(m.group(), f"\\u{ord(m.group()):04X}"), text) + '"'


class _Lenient:
    """Recursive descent for what the C decoder refuses but Jackson (as Spark sets it) accepts."""

    def __init__(self, text: str, start: int) -> None:
        self.s, self.i = text, start

    def root(self) -> JValue:
        return self.value(0)

    def fail(self, what: str) -> JsonSyntaxError:
        return JsonSyntaxError(f"{what} at {self.i}")

    def skip(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in WHITESPACE:
            self.i += 1

    def value(self, depth: int) -> JValue:
        if depth > 1000:
            raise self.fail("nesting too deep")
        self.skip()
        if self.i >= len(self.s):
            raise self.fail("unexpected end")
        c = self.s[self.i]
        if c == "{":
            return self.obj(depth)
        if c == "[":
            return self.arr(depth)
        if c in "\"'":
            return self.string()
        for word, out in (("true", True), ("false", False), ("null", None), ("NaN", JNum("NaN")),
                          ("Infinity", JNum("Infinity")), ("+Infinity", JNum("Infinity")),
                          ("-Infinity", JNum("-Infinity"))):
            if self.s.startswith(word, self.i):
                self.i += len(word)
                return out
        return self.number()

    def obj(self, depth: int) -> JObject:
        self.i += 1
        pairs: list[tuple[str, Any]] = []
        self.skip()
        if self.i < len(self.s) and self.s[self.i] == "}":
            self.i += 1
            return JObject(())
        while True:
            self.skip()
            if self.i >= len(self.s) or self.s[self.i] not in "\"'":
                raise self.fail("expected a field name")
            key = self.string()
            self.skip()
            if self.i >= len(self.s) or self.s[self.i] != ":":
                raise self.fail("expected ':'")
            self.i += 1
            pairs.append((key, self.value(depth + 1)))
            if self.closed("}"):
                return JObject(tuple(pairs))

    def arr(self, depth: int) -> list[JValue]:
        self.i += 1
        items: list[JValue] = []
        self.skip()
        if self.i < len(self.s) and self.s[self.i] == "]":
            self.i += 1
            return items
        while True:
            items.append(self.value(depth + 1))
            if self.closed("]"):
                return items

    def closed(self, close: str) -> bool:
        """After a member: consume a ',' (False, another member follows) or `close` (True), else fail."""
        self.skip()
        if self.i < len(self.s) and self.s[self.i] in ("," + close):
            self.i += 1
            return self.s[self.i - 1] == close
        raise self.fail(f"expected ',' or '{close}'")

    def string(self) -> str:
        q = self.s[self.i]
        self.i += 1
        out: list[str] = []
        while True:
            if self.i >= len(self.s):
                raise self.fail("unterminated string")
            c = self.s[self.i]
            if c == q:
                self.i += 1
                return "".join(out)
            if ord(c) < 32:
                raise self.fail("control character in string")
            if c == "\\":
                self.i += 1
                if self.i >= len(self.s):
                    raise self.fail("unterminated escape")
                e = self.s[self.i]
                if e == "u":
                    code = self.s[self.i + 1:self.i + 5]
                    if len(code) != 4 or not all(h in "0123456789abcdefABCDEF" for h in code):
                        raise self.fail("bad \\u escape")
                    out.append(chr(int(code, 16)))
                    self.i += 5
                    continue
                mapped = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r",
                          "t": "\t", "'": "'"}.get(e)
                if mapped is None:
                    raise self.fail("bad escape")
                out.append(mapped)
                self.i += 1
                continue
            out.append(c)
            self.i += 1

    _NUMBER = re.compile(r"-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?")

    def number(self) -> JNum:
        m = self._NUMBER.match(self.s, self.i)
        if not m or not m.group():
            raise self.fail("unexpected character")
        self.i = m.end()
        token = m.group()
        if m.group(2) or m.group(3):
            return _float_text(token)
        return _int_text(token)
