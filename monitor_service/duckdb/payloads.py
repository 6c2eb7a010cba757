"""Payload text to records, rule for rule as `monitor_service.spark.payloads` builds them in SQL.

The Spark engine's expressions are the specification; each function here names the one it
mirrors. A record is a list of entries `(key, value)`: keyed entries come from JSON objects
(flattened keys), positional ones (CSV values, JSON lists and scalars) have key None and are
named when both sides of a capture line are known. A record of None is one that is not valid
JSON (Spark's null, which the capture reader turns into `malformed_payload`).
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor_service.duckdb.jackson import JNum, JObject, JValue, to_json, to_text, try_parse
from monitor_service.spark.payloads import FLATTEN_DEPTH, MAX_LIST_COLUMNS

Entry = tuple[str | None, str | None]
Entries = list[Entry]
_LINE_BREAK = re.compile(r"\r?\n")


def ltrim(text: str) -> str:
    """Spark's `ltrim`: leading spaces only (not tabs or line breaks)."""
    return text.lstrip(" ")


def split_lines(text: str) -> list[str]:
    """`split_lines`: the non-blank lines of a multi-record payload."""
    return [x for x in _LINE_BREAK.split(text) if x.strip(" ") != ""]


@lru_cache(maxsize=64)
def _quoted_split(delimiter: str) -> re.Pattern[str]:
    return re.compile(re.escape(delimiter) + r'(?=(?:[^"]*"[^"]*")*[^"]*$)')


def csv_values(record: str, delimiter: str = ",") -> list[str]:
    """`csv_values`: split one CSV row, honouring double quotes only when the row has any."""
    if '"' not in record:
        return record.split(delimiter)
    out = []
    for v in _quoted_split(delimiter).split(record):
        if len(v) >= 2 and v.startswith('"') and v.endswith('"'):
            v = v[1:-1].replace('""', '"')
        out.append(v)
    return out


def positional(values: list[str | None]) -> Entries:
    """`positional_entries`: no names, and empty strings mean missing."""
    return [(None, v if v != "" else None) for v in values]


# --- Spark's from_json readings of one text ------------------------------------------------------

def as_map(text: str | None) -> list[tuple[str, str | None]] | None:
    """`from_json(text, 'map<string,string>')`: the object's pairs as texts, or None."""
    ok, value = try_parse(text)
    if not ok or not isinstance(value, JObject):
        return None
    return [(k, to_text(v)) for k, v in value.pairs]


def _list_value(text: str | None) -> list[JValue] | None:
    ok, value = try_parse(text)
    return value if ok and isinstance(value, list) else None


def as_list(text: str | None) -> list[str | None] | None:
    """`from_json(text, 'array<string>')`: the list's elements as texts, or None."""
    items = _list_value(text)
    return None if items is None else [to_text(v) for v in items]


def record_texts(items: list[JValue]) -> list[str | None]:
    """`json_list_texts`: list elements as record texts; strings stay quoted JSON strings."""
    return [to_json(v) if isinstance(v, str) else to_text(v) for v in items]


def columnar_records(payload: str, min_keys: int) -> list[str] | None:
    """`columnar_records`: `{"a": [1, 2], "b": [3, 4]}` as one record text per position."""
    ok, value = try_parse(ltrim(payload))
    if not ok or not isinstance(value, JObject) or len(value.pairs) < min_keys:
        return None
    if not all(isinstance(v, list) for _, v in value.pairs):
        return None
    sizes = {len(v) for _, v in value.pairs}
    first = len(value.pairs[0][1])
    if first == 0 or len(sizes) != 1:
        return None
    return [to_json(JObject(tuple((k, _cell(v[i])) for k, v in value.pairs))) for i in range(first)]


def _cell(value: JValue) -> JValue:
    """An element of a columnar list as `map<string,array<string>>` reads it: a string or null."""
    return None if value is None else to_text(value)


def json_payload_records(payload: str, records_attribute: str | None, layout: str) -> list[str | None] | None:
    """`json_payload_records`: a JSON payload split into record texts (None: not readable)."""
    text = ltrim(payload)
    if text.startswith("["):
        items = _list_value(text)
        return None if items is None else record_texts(items)
    if text.startswith("{"):
        if records_attribute:
            ok, value = try_parse(text)
            if ok and isinstance(value, JObject):
                attr = _last(value, records_attribute)
                if isinstance(attr, list):
                    return record_texts(attr)
        if layout != "records":
            columnar = columnar_records(payload, 1 if layout == "columnar" else 2)
            if columnar is not None:
                return list(columnar)
        if as_map(text) is not None:
            return [text]
        return list(split_lines(payload))
    if text.strip(" ") == "":
        return []
    return [text]


def _last(obj: JObject, key: str) -> JValue:
    """A struct field read by Spark: the last of duplicate keys wins."""
    found: JValue = None
    for k, v in obj.pairs:
        if k == key:
            found = v
    return found


def get_json_object(text: str, key: str) -> str | None:
    """`get_json_object(text, '$.key')`: the value's text (strings unquoted), or None."""
    ok, value = try_parse(text)
    if not ok or not isinstance(value, JObject):
        return None
    for k, v in value.pairs:
        if k == key:
            return None if v is None else to_text(v)
    return None


def json_object_entries(record: str) -> Entries:
    """`json_object_entries`: top-level keys in document order, nested objects and short lists flattened."""
    pairs = as_map(record) or []
    entries: list[tuple[str | None, str | None]] = list(pairs)
    for _ in range(FLATTEN_DEPTH):
        entries = _flatten_once(entries)
    return entries


def _flatten_once(entries: list[tuple[str | None, str | None]]) -> list[tuple[str | None, str | None]]:
    out: list[tuple[str | None, str | None]] = []
    for key, value in entries:
        if value is not None:
            stripped = ltrim(value)
            if stripped.startswith("{"):
                nested = as_map(value)
                if nested is not None:
                    out.extend((_dotted(key, k), v) for k, v in nested)
                    continue
            elif stripped.startswith("["):
                items = as_list(value)
                if items is not None and len(items) <= MAX_LIST_COLUMNS:
                    out.extend((_dotted(key, str(i)), v) for i, v in enumerate(items))
                    continue
        out.append((key, value))
    return out


def _dotted(prefix: str | None, key: str) -> str | None:
    return None if prefix is None else f"{prefix}.{key}"


def json_record_entries(record: str | None, features_attribute: str | None) -> Entries | None:
    """`json_record_entries`: an object is keyed, a list or scalar positional; None if not JSON."""
    if record is None:
        return None
    source = record
    if features_attribute:
        picked = get_json_object(record, features_attribute)
        source = picked if picked is not None else record
    text = ltrim(source)
    if text.startswith("{"):
        return json_object_entries(text) if as_map(text) is not None else None
    if text.startswith("["):
        items = as_list(text)
        return None if items is None else positional(items)
    scalar = as_list(f"[{text}]")
    if scalar is not None and len(scalar) == 1:
        return positional(scalar)
    return None


def signature(entries: Entries | None) -> int | None:
    """`_signature`: number of positional values, -1 when keyed, None when the side is absent."""
    if entries is None:
        return None
    if any(key is not None for key, _ in entries):
        return -1
    return len(entries)


def name_fields(first: Entries | None, second: Entries | None, first_names: list[str] | None,
                second_names: list[str] | None, output_first: bool) -> list[tuple[str, str | None]]:
    """`name_fields`: both sides' entries concatenated and named (see the Spark expression)."""
    first = first or []
    second = second or []

    def named(side: Entries, other: Entries, names: list[str] | None, offset: int,
              is_output: bool) -> list[tuple[str, str | None]]:
        other_keys = {k for k, _ in other if k is not None} if is_output else set()
        out: list[tuple[str, str | None]] = []
        for i, (key, value) in enumerate(side):
            if key is None:
                name = names[i] if names and i < len(names) else f"_c{i + offset}"
            else:
                name = f"output.{key}" if key in other_keys else key
            out.append((name, value))
        return out

    return named(first, second, first_names, 0, output_first) + named(
        second, first, second_names, len(first), not output_first)


def is_number_token(value: JValue) -> bool:
    return isinstance(value, JNum)
