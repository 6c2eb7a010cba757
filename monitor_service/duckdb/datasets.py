"""Plain datasets (CSV, JSON Lines, Parquet) to record batches, as `monitor_service.spark.datasets` reads them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitor_service.core.quarantine import LINE_TOO_LONG
from monitor_service.duckdb import payloads as P
from monitor_service.duckdb.capture import _Builder, sample_text
from monitor_service.duckdb.jackson import java_double, to_json
from monitor_service.duckdb.lines import LineBatch
from monitor_service.duckdb.timestamps import NO_TIME
from monitor_service.duckdb.window import ABSENT, RecordBatch, ValuePart
from monitor_service.errors import InputError
from monitor_service.spark.payloads import sql_string
from monitor_service.specs import InputSpec


def dataset_decoder(con: Any, spec: InputSpec, header: list[str] | None) -> Any:
    if spec.format == "csv":
        return CsvDecoder(con, spec, header)
    if spec.format == "jsonl":
        return JsonlDecoder(con, spec)
    return ParquetDecoder()


class CsvDecoder:
    """CSV lines: blank lines skipped, header lines dropped, values split (quoted rows in Python)."""

    def __init__(self, con: Any, spec: InputSpec, header: list[str] | None) -> None:
        self.con = con
        self.delimiter = spec.dataset_config.csv_delimiter
        self.header = header if spec.dataset_config.header else None
        self.names = spec.dataset_config.input.names or self.header

    def decode(self, batch: LineBatch) -> Iterator[RecordBatch]:
        self.con.register("_lines", pa.table({"line_no": batch.line_numbers, "raw": batch.lines,
                                              "too_long": pa.array(batch.long_mask)}))
        try:
            rows = self.con.sql(f"""
                SELECT line_no, too_long, line IS NULL AND NOT too_long AS bad,
                  CASE WHEN line IS NULL THEN raw END AS raw,
                  CASE WHEN strpos(line, '"') > 0 THEN line END AS quoted,
                  CASE WHEN strpos(line, '"') = 0 THEN list_transform(
                    string_split(line, {sql_string(self.delimiter)}), lambda v: nullif(v, '')) END AS vals,
                  CASE WHEN strpos(line, '"') = 0 THEN string_split(replace(line, chr(65279), ''),
                    {sql_string(self.delimiter)}) END AS raw_vals
                FROM (SELECT line_no, raw, too_long, CASE WHEN NOT too_long THEN TRY(decode(raw)) END AS line
                      FROM _lines)
                WHERE line IS NULL OR trim(line) <> ''
            """).to_arrow_table().combine_chunks()
        finally:
            self.con.unregister("_lines")
        if len(rows) == 0:
            return
        out = _Builder()
        quoted = rows.column("quoted").to_pylist()
        bad = rows.column("bad").to_pylist()
        long = rows.column("too_long").to_pylist()
        raws = rows.column("raw").to_pylist()
        if not any(q is not None or b or t for q, b, t in zip(quoted, bad, long, strict=True)):
            yield self._plain(batch.file_index, rows)
            return
        plain_vals = rows.column("vals").to_pylist()
        raw_vals = rows.column("raw_vals").to_pylist()
        for i, line_no in enumerate(rows.column("line_no").to_pylist()):
            if long[i]:
                out.error_row(line_no, LINE_TOO_LONG, sample_text(raws[i]), None, None)
                continue
            if bad[i]:
                out.error_row(line_no, "invalid_utf8", raws[i].decode("utf-8", errors="replace"), None, None)
                continue
            if quoted[i] is not None:
                if self.header is not None and P.csv_values(quoted[i].replace("\ufeff", ""),
                                                            self.delimiter) == self.header:
                    continue
                values = [v if v != "" else None for v in P.csv_values(quoted[i], self.delimiter)]
            else:
                if self.header is not None and raw_vals[i] == self.header:
                    continue
                values = plain_vals[i]
            out.record(line_no, len(values), [(_name(self.names, j), v) for j, v in enumerate(values)])
        yield out.build(self.con, batch.file_index, times=False)

    def _plain(self, file_index: int, rows: pa.Table) -> RecordBatch:
        """All lines plain (no quotes, valid UTF-8): columnar, without Python per line."""
        if self.header is not None:
            header = pa.scalar(self.header, pa.list_(pa.string()))
            keep = pc.invert(pc.fill_null(pc.equal(_list_text(rows.column("raw_vals")), _list_text_scalar(header)),
                                          False))
            rows = rows.filter(keep)
        vals = rows.column("vals").combine_chunks()
        lengths = pc.list_value_length(vals).to_numpy(zero_copy_only=False).astype(np.int64)
        offsets = np.zeros(len(rows) + 1, np.int64)
        np.cumsum(lengths, out=offsets[1:])
        n = len(rows)
        nulls = pa.nulls(n, pa.large_string())
        return RecordBatch(
            file_index=file_index, line_no=rows.column("line_no").to_numpy(), record_index=np.zeros(n, np.int32),
            error=np.zeros(n, np.int8), in_count=lengths.astype(np.int32), out_count=np.full(n, ABSENT, np.int32),
            time_us=np.full(n, NO_TIME, np.int64), event_id=nulls, inference_time=nulls, line=nulls,
            parts=[ValuePart.strings(offsets, pc.list_flatten(vals), side="in")])


def _list_text(column: pa.ChunkedArray) -> pa.Array:
    """A list<string> column as one comparable text per row (values joined with a separator)."""
    return pc.binary_join(column.combine_chunks(), "\x00")


def _list_text_scalar(header: pa.Scalar) -> pa.Scalar:
    return pa.scalar("\x00".join(header.as_py()))


class JsonlDecoder:
    """JSON Lines datasets: each non-blank line one record, objects flattened to dotted names."""

    def __init__(self, con: Any, spec: InputSpec) -> None:
        self.con = con
        self.features = spec.dataset_config.input.features_attribute
        self.names = spec.dataset_config.input.names

    def decode(self, batch: LineBatch) -> Iterator[RecordBatch]:
        out = _Builder()
        for line_no, raw, long in zip(batch.line_numbers.tolist(), batch.lines.to_pylist(), batch.long_mask.tolist(),
                                      strict=True):
            if long:
                out.error_row(line_no, LINE_TOO_LONG, sample_text(raw), None, None)
                continue
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                if raw.strip(b" ") != b"":
                    out.error_row(line_no, "invalid_utf8", raw.decode("utf-8", errors="replace"), None, None)
                continue
            if text.strip(" ") == "":
                continue
            entries = P.json_record_entries(text, self.features)
            if entries is None:
                out.error_row(line_no, "malformed_json", text, None, None)
                continue
            out.record(line_no, _signature(entries), P.name_fields(entries, None, self.names, None, False))
        yield out.build(self.con, batch.file_index, times=False)


class ParquetDecoder:
    """Parquet files: every leaf column a named field, values as Spark casts them to strings."""

    def decode_file(self, fs: Any, path: str, file_index: int) -> Iterator[RecordBatch]:
        import pyarrow.parquet as pq

        try:
            handle = fs.open(path, "rb")
            reader = pq.ParquetFile(handle)
        except Exception as exc:  # pyarrow raises ArrowInvalid / OSError for files that are not Parquet
            raise InputError(f"cannot read Parquet input {path}: {str(exc).splitlines()[0]}",
                             hint="check that the files are Parquet") from exc
        with handle:
            row = 0
            for table in reader.iter_batches(batch_size=65536):
                leaves = _leaves(pa.Table.from_batches([table]))
                yield _wide_batch(file_index, row, leaves)
                row += table.num_rows


def _leaves(table: pa.Table) -> list[tuple[str, pa.Array]]:
    out: list[tuple[str, pa.Array]] = []

    def walk(name: str, array: pa.Array) -> None:
        if pa.types.is_struct(array.type):
            flat = array.flatten()
            for i, child in enumerate(array.type):
                walk(f"{name}.{child.name}", flat[i])
        else:
            out.append((name, spark_string(array)))

    for name, column in zip(table.column_names, table.columns, strict=True):
        walk(name, column.combine_chunks())
    return out


def spark_string(array: pa.Array) -> pa.Array:
    """`cast(x AS string)` of a Parquet column as Spark writes it (lists and maps as JSON)."""
    t = array.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return array.cast(pa.large_string())
    if pa.types.is_floating(t):
        single = pa.types.is_float32(t) or pa.types.is_float16(t)
        values = array.to_pylist()
        return pa.array([None if v is None else _java_float(v, single) for v in values], pa.large_string())
    if pa.types.is_boolean(t):
        return pc.if_else(array, "true", "false").cast(pa.large_string())
    if pa.types.is_timestamp(t):
        return pa.array([None if v is None else _spark_timestamp(v) for v in array.cast(
            pa.timestamp("us", tz="UTC")).to_pylist()], pa.large_string())
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return pa.array([None if v is None else v.decode("utf-8", errors="replace") for v in array.to_pylist()],
                        pa.large_string())
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_map(t):
        return pa.array([None if v is None else to_json(_jvalue(v)) for v in array.to_pylist()], pa.large_string())
    return array.cast(pa.large_string())


def _java_float(value: float, single: bool) -> str:
    """Java's Double.toString, or Float.toString (the float's own shortest digits) for 32-bit floats."""
    return java_double(float(str(np.float32(value)))) if single else java_double(value)


def _spark_timestamp(value: Any) -> str:
    text = value.strftime("%Y-%m-%d %H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text


def _jvalue(value: Any) -> Any:
    from monitor_service.duckdb.jackson import JNum, JObject

    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return JNum(str(value))
    if isinstance(value, float):
        return JNum(java_double(value))
    if isinstance(value, dict):
        return JObject(tuple((str(k), _jvalue(v)) for k, v in value.items()))
    if isinstance(value, list) and value and isinstance(value[0], tuple):  # a map
        return JObject(tuple((str(k), _jvalue(v)) for k, v in value))
    if isinstance(value, list):
        return [_jvalue(v) for v in value]
    return str(value)


def _wide_batch(file_index: int, first_row: int, leaves: list[tuple[str, pa.Array]]) -> RecordBatch:
    """Rows of named leaf columns as records (keyed: signature -1, as Spark's Parquet reader)."""
    n = len(leaves[0][1]) if leaves else 0
    width = len(leaves)
    names = pa.array([name for name, _ in leaves] * n, pa.large_string()) if n else pa.array([], pa.large_string())
    if n and width:
        columns = [pc.cast(a, pa.large_string()) for _, a in leaves]
        order = np.arange(n * width).reshape(width, n).T.reshape(-1)
        values = pc.take(pa.concat_arrays(columns), pa.array(order))
    else:
        values = pa.array([], pa.large_string())
    nulls = pa.nulls(n, pa.large_string())
    return RecordBatch(
        file_index=file_index, line_no=np.arange(first_row, first_row + n, dtype=np.int64),
        record_index=np.zeros(n, np.int32), error=np.zeros(n, np.int8), in_count=np.full(n, -1, np.int32),
        out_count=np.full(n, ABSENT, np.int32), time_us=np.full(n, NO_TIME, np.int64), event_id=nulls,
        inference_time=nulls, line=nulls,
        parts=[ValuePart.strings(np.arange(n + 1, dtype=np.int64) * width, values, names=names)])


def _name(names: list[str] | None, i: int) -> str:
    return names[i] if names and i < len(names) else f"_c{i}"


def _signature(entries: P.Entries) -> int:
    count = P.signature(entries)
    return ABSENT if count is None else count
