"""Spark SQL expressions that turn payload text into records and records into named fields.

Everything here builds native Spark expressions (no Python UDFs), so parsing runs in the JVM at
full speed on any cluster. A *record* is represented as `array<struct<key, value>>`: keyed
records (JSON objects) carry their flattened key; positional records (CSV rows, JSON lists and
scalars) carry a null key and are named later, when both sides of a capture line are known.
"""

from __future__ import annotations

import re

# Nested JSON objects are flattened to dotted names this many levels deep; deeper values stay
# as JSON text (and so profile as String).
FLATTEN_DEPTH = 4
# A list inside a JSON record becomes one column per element only up to this length; longer
# lists (embeddings, token ids) stay one JSON-text value, so a payload cannot explode into
# thousands of columns, each with its own sketches on the driver.
MAX_LIST_COLUMNS = 100

ENTRY_TYPE = "array<struct<key:string,value:string>>"
_DEFAULT_NAMES = "array(" + ", ".join(f"'_c{i}'" for i in range(256)) + ")"


def sql_string(value: str) -> str:
    """Quote a Python string as a Spark SQL string literal."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def sql_string_array(values: list[str] | None) -> str:
    if not values:
        return "cast(array() as array<string>)"
    return "array(" + ", ".join(sql_string(v) for v in values) + ")"


def split_lines(text: str) -> str:
    """Non-empty lines of a multi-record payload (CSV rows or JSON Lines)."""
    return f"filter(split({text}, '\\\\r?\\\\n'), x -> trim(x) != '')"


def csv_values(record: str, delimiter: str = ",") -> str:
    """Split one CSV row into values, honouring double quotes only when the row has any."""
    delim = re.escape(delimiter).replace("\\", "\\\\")
    quoted_split = f'split({record}, \'{delim}(?=(?:[^"]*"[^"]*")*[^"]*$)\')'
    unquote = (
        "transform(" + quoted_split + ", v -> CASE WHEN v LIKE '\"%\"' AND length(v) >= 2 "
        "THEN replace(substring(v, 2, length(v) - 2), '\"\"', '\"') ELSE v END)"
    )
    plain = f"split({record}, '{delim}')"
    return f"CASE WHEN instr({record}, '\"') > 0 THEN {unquote} ELSE {plain} END"


def positional_entries(values: str) -> str:
    """Values without names: keys are null and empty strings mean missing (as Spark's CSV reader)."""
    return f"transform({values}, v -> named_struct('key', cast(null as string), 'value', nullif(v, '')))"


def _object_entries(text: str, prefix: str | None, var: str) -> str:
    """A JSON object's `key -> value text` entries in document order, ONE PER KEY AS WRITTEN.

    `from_json(..., 'map<string,string>')` keeps the last of repeated keys silently; listing the
    keys from `json_object_keys` instead keeps a repeated key twice, so the record's names repeat
    and the record is quarantined as `duplicate_key` (see `records.finalize_records`) instead of
    being counted with one of its values dropped.
    """
    key = var if prefix is None else f"concat({prefix}, '.', {var})"
    return (f"transform(json_object_keys({text}), {var} -> named_struct('key', {key}, "
            f"'value', element_at(from_json({text}, 'map<string,string>'), {var})))")


def _flatten_once(entries: str, level: int) -> str:
    e, x, i = f"e{level}", f"x{level}", f"i{level}"
    as_map = f"from_json({e}.value, 'map<string,string>')"
    as_list = f"from_json({e}.value, 'array<string>')"
    return (
        f"flatten(transform({entries}, {e} -> CASE "
        f"WHEN ltrim({e}.value) LIKE '{{%' AND {as_map} IS NOT NULL THEN "
        f"{_object_entries(f'{e}.value', f'{e}.key', x)} "
        f"WHEN ltrim({e}.value) LIKE '[%' AND size({as_list}) BETWEEN 0 AND {MAX_LIST_COLUMNS} THEN "
        f"transform({as_list}, ({x}, {i}) -> "
        f"named_struct('key', concat({e}.key, '.', cast({i} as string)), 'value', {x})) "
        f"ELSE array(named_struct('key', {e}.key, 'value', {e}.value)) END))"
    )


def json_object_entries(record: str) -> str:
    """A JSON object as flattened `key -> value text` entries, top-level keys in document order."""
    entries = _object_entries(record, None, "t")
    for level in range(FLATTEN_DEPTH):
        entries = _flatten_once(entries, level)
    return entries


def json_record_entries(record: str, features_attribute: str | None) -> str:
    """Entries of one JSON record: an object is keyed; a list or a scalar is positional.

    With `features_attribute` the record is first replaced by that attribute's value (e.g.
    `{"features": [..]}` -> the list), so positional names from the dataset config apply.
    Returns null when the record is not valid JSON.
    """
    text = f"ltrim({record})"
    if features_attribute:
        text = f"ltrim(coalesce(get_json_object({record}, {sql_string('$.' + features_attribute)}), {record}))"
    as_list = f"from_json({text}, 'array<string>')"
    scalar = f"from_json(concat('[', {text}, ']'), 'array<string>')"
    return (
        f"CASE WHEN {text} LIKE '{{%' THEN "
        f"CASE WHEN from_json({text}, 'map<string,string>') IS NOT NULL THEN {json_object_entries(text)} END "
        f"WHEN {text} LIKE '[%' THEN CASE WHEN {as_list} IS NOT NULL THEN {positional_entries(as_list)} END "
        f"ELSE CASE WHEN size({scalar}) = 1 THEN {positional_entries(scalar)} END END"
    )


def json_payload_records(payload: str, records_attribute: str | None, layout: str) -> str:
    """Split a JSON payload into record texts: a list, `{attr: [...]}`, a columnar object, or one object."""
    text = f"ltrim({payload})"
    as_list = json_list_texts(text, "array<{}>")
    columnar = columnar_records(payload, 1 if layout == "columnar" else 2)
    branches = [f"WHEN {text} LIKE '[%' THEN {as_list}"]
    if records_attribute:
        field = _struct_field(records_attribute)
        attr = json_list_texts(text, f"struct<{field}:array<{{}}>>", f".{field}")
        branches.append(f"WHEN {text} LIKE '{{%' AND {attr} IS NOT NULL THEN {attr}")
    if layout != "records":
        branches.append(f"WHEN {text} LIKE '{{%' AND {columnar} IS NOT NULL THEN {columnar}")
    branches.append(
        f"WHEN {text} LIKE '{{%' AND from_json({text}, 'map<string,string>') IS NOT NULL THEN array({text})"
    )
    branches.append(f"WHEN {text} LIKE '{{%' THEN {split_lines(payload)}")  # JSON Lines sent as application/json
    branches.append(f"WHEN trim({text}) = '' THEN cast(array() as array<string>)")
    branches.append(f"ELSE array({text})")
    return "CASE " + " ".join(branches) + " END"


def json_list_texts(text: str, shape: str, path: str = "") -> str:
    """The elements of a JSON list as JSON texts, each exactly as written.

    `array<string>` keeps numbers and nested objects verbatim (`1.0` stays `1.0`, which matters
    for type inference) but strips the quotes of string elements, which would then no longer
    parse as JSON records; `array<variant>` keeps strings quoted but normalizes numbers. So
    string elements come from the variant reading and everything else from the string one.
    `shape` is the schema with `{}` where the element type goes; `path` selects the list in it.
    """
    as_text = f"from_json({text}, '{shape.format('string')}'){path}"
    as_variant = f"from_json({text}, '{shape.format('variant')}'){path}"
    return (f"zip_with({as_text}, {as_variant}, (st, va) -> "
            f"CASE WHEN schema_of_variant(va) = 'STRING' THEN to_json(va) ELSE st END)")


def columnar_records(payload: str, min_keys: int) -> str:
    """Records of a column-oriented object `{"a": [1, 2], "b": [3, 4]}`, or null if it is not one.

    Every key must hold a list and all lists must have the same non-zero length; record i is
    the object of the i-th elements (SageMaker fails on these payloads, issue #2629).
    """
    columns = f"from_json(ltrim({payload}), 'map<string,array<string>>')"
    first_len = f"size(element_at(map_values({columns}), 1))"
    ok = (
        f"{columns} IS NOT NULL AND size({columns}) >= {min_keys} AND {first_len} > 0 AND "
        f"size(array_distinct(transform(map_values({columns}), a -> size(a)))) = 1"
    )
    records = (
        f"transform(sequence(0, {first_len} - 1), i -> to_json(map_from_arrays("
        f"map_keys({columns}), transform(map_values({columns}), a -> a[i]))))"
    )
    return f"CASE WHEN {ok} THEN {records} END"


def _struct_field(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def name_fields(
    first: str, second: str, first_names: list[str] | None, second_names: list[str] | None, output_first: bool
) -> str:
    """Concatenate two sides' entries into `array<struct<name, value>>`.

    Positional entries take the configured names, else SageMaker's `_c{i}` by their index in the
    combined row. A keyed output entry whose key also occurs among the input keys is renamed
    `output.<key>`, so that names stay unique and inputs keep their own names.
    """
    empty = f"cast(array() as {ENTRY_TYPE})"

    def named(side: str, other: str, names: list[str] | None, offset: str, is_output: bool) -> str:
        # SageMaker's `_c{i}`, looked up in a literal list (no string built per value) while it is long enough
        default = (f"coalesce(element_at({_DEFAULT_NAMES}, i + {offset} + 1), "
                   f"concat('_c', cast(i + {offset} as string)))")
        positional = f"coalesce(element_at({sql_string_array(names)}, i + 1), {default})" if names else default
        key = "e.key"
        if is_output:
            key = (
                f"CASE WHEN array_contains(transform(coalesce({other}, {empty}), f -> f.key), e.key) "
                f"THEN concat('output.', e.key) ELSE e.key END"
            )
        return (
            f"transform(coalesce({side}, {empty}), (e, i) -> named_struct("
            f"'name', CASE WHEN e.key IS NULL THEN {positional} ELSE {key} END, 'value', e.value))"
        )

    first_named = named(first, second, first_names, "0", output_first)
    second_named = named(second, first, second_names, f"size(coalesce({first}, {empty}))", not output_first)
    return f"concat({first_named}, {second_named})"
