"""Text lines of input files as Arrow batches, split exactly where Spark's text reader splits.

Spark reads lines with Hadoop's `LineRecordReader`: `\\n`, `\\r` and `\\r\\n` all end a line,
the terminator is not part of the line, a last line without a terminator counts, and bytes
are passed on as they are (invalid UTF-8 included, which the readers then quarantine). Files
are read in blocks (bounded memory whatever their size; `.gz` files are decompressed as a
stream) and the line boundaries of a block are found with numpy, so no Python object is made
per line.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pyarrow as pa

BLOCK_BYTES = 16 * 1024 * 1024
# What is kept of a line over the limit: enough bytes for the sample's 65,536 characters.
PREFIX_BYTES = 4 * 65_536
_LF, _CR = 10, 13


@dataclass
class LineBatch:
    """Consecutive lines of one file: `line_no` counts from 0 within the file.

    A line longer than the limit is kept only as its first `PREFIX_BYTES` and flagged in
    `too_long` (None: no line of the batch is), so that nothing parses it.
    """

    file_index: int
    lines: pa.BinaryArray
    first_line: int
    too_long: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.lines)

    @property
    def long_mask(self) -> np.ndarray:
        return self.too_long if self.too_long is not None else np.zeros(len(self.lines), np.bool_)

    @property
    def line_numbers(self) -> np.ndarray:
        return np.arange(self.first_line, self.first_line + len(self.lines), dtype=np.int64)


def source_name(path: str, local: bool) -> str:
    """The file name Spark reports in `_metadata.file_path` (local files as `file:/...`)."""
    if local and "://" not in path:
        return "file:" + path
    return path


def open_input(fs: Any, path: str) -> IO[bytes]:
    handle: IO[bytes] = fs.open(path, "rb")
    if path.lower().endswith(".gz"):
        return gzip.GzipFile(fileobj=handle, mode="rb")  # type: ignore[return-value]
    return handle


def file_lines(handle: IO[bytes], file_index: int, block_bytes: int = BLOCK_BYTES,
               max_line_bytes: int | None = None) -> Iterator[LineBatch]:
    """The lines of one open file, a block at a time; lines over `max_line_bytes` are cut and flagged.

    A line that does not end within the limit is not kept whole: past the limit only its
    prefix is held while the rest of it is skipped, so one huge line cannot exhaust memory.
    """
    carry = b""
    skipping = False  # inside a line already known to be too long: drop bytes up to its end
    drop_lf = False  # the long line ended with a CR at the end of a block: a LF next is its CRLF
    line_no = 0
    while True:
        block = handle.read(block_bytes)
        at_end = not block
        if drop_lf and block:
            block = block[1:] if block[:1] == b"\n" else block
            drop_lf = False
        if skipping:
            cut = _first_terminator(block)
            head = block if cut < 0 else block[:cut]
            carry += head[: max(0, PREFIX_BYTES - len(carry))]  # the prefix keeps its full length
            if cut < 0 and not at_end:
                continue
            yield _long_line(file_index, carry, line_no)
            line_no += 1
            carry, skipping = b"", False
            if at_end:
                return
            if block[cut:cut + 2] == b"\r\n":
                block = block[cut + 2:]
            else:
                drop_lf = block[cut] == _CR and cut == len(block) - 1
                block = block[cut + 1:]
            if not block:
                continue
        data = carry + block if carry else block
        if not data:
            if at_end:
                return
            continue
        lines, rest = split_block(data, at_end)
        carry = rest
        long_done = False
        held_cr = carry.endswith(b"\r")  # held back as a possible CRLF: then the line has ended
        if max_line_bytes is not None and len(carry) - held_cr > max_line_bytes:
            if held_cr:
                long_done, drop_lf = True, True
                carry = carry[:-1]
            else:
                skipping = True
            carry = carry[:PREFIX_BYTES]
        if len(lines):
            batch = LineBatch(file_index, lines, line_no)
            if max_line_bytes is not None:
                batch = _flag_long(batch, max_line_bytes)
            yield batch
            line_no += len(lines)
        if long_done:
            yield _long_line(file_index, carry, line_no)
            line_no += 1
            carry = b""
        if at_end:
            return


def _first_terminator(block: bytes) -> int:
    found = [i for i in (block.find(b"\n"), block.find(b"\r")) if i >= 0]
    return min(found) if found else -1


def _long_line(file_index: int, prefix: bytes, line_no: int) -> LineBatch:
    return LineBatch(file_index, pa.array([prefix], pa.large_binary()), line_no,  # type: ignore[arg-type]
                     too_long=np.ones(1, np.bool_))


def _flag_long(batch: LineBatch, max_line_bytes: int) -> LineBatch:
    """Cut the lines of `batch` longer than the limit to their prefix and flag them."""
    offsets = np.frombuffer(batch.lines.buffers()[1], dtype=np.int64)[: len(batch) + 1]
    long = np.diff(offsets) > max_line_bytes
    if not long.any():
        return batch
    values = batch.lines.to_pylist()
    for i in np.flatnonzero(long).tolist():
        values[i] = values[i][:PREFIX_BYTES]
    return LineBatch(batch.file_index, pa.array(values, pa.large_binary()), batch.first_line,  # type: ignore[arg-type]
                     too_long=long)


def split_block(data: bytes, at_end: bool) -> tuple[pa.BinaryArray, bytes]:
    """The complete lines of `data` and the unfinished rest (everything, at the end of the file)."""
    if b"\r" not in data:
        return _split_lf(data, at_end)
    buf = np.frombuffer(data, dtype=np.uint8)
    cr = np.flatnonzero(buf == _CR)
    lf = np.flatnonzero(buf == _LF)
    if not at_end and len(cr) and cr[-1] == len(buf) - 1:
        cr = cr[:-1]  # a CR at the end of a block may be the first half of a CRLF: wait for the next byte
        last_cr_held = True
    else:
        last_cr_held = False
    crlf = np.zeros(len(cr), dtype=bool)
    if len(cr):
        follow = cr + 1
        inside = follow < len(buf)
        crlf[inside] = buf[follow[inside]] == _LF
    lone_lf = lf[~np.isin(lf, cr[crlf] + 1)] if len(lf) else lf
    term_start = np.concatenate([cr, lone_lf])
    term_len = np.concatenate([np.where(crlf, 2, 1), np.ones(len(lone_lf), dtype=np.int64)])
    order = np.argsort(term_start, kind="stable")
    term_start, term_len = term_start[order], term_len[order].astype(np.int64)
    if last_cr_held and len(term_start) == 0:
        return _binary(np.zeros(1, dtype=np.int64), b""), data
    ends = term_start
    starts = np.concatenate([[0], term_start + term_len]).astype(np.int64)
    tail_start = int(starts[-1])
    complete = len(ends)
    if at_end and tail_start < len(buf):
        ends = np.concatenate([ends, [len(buf)]])
        complete += 1
        rest = b""
    else:
        rest = data[tail_start:] if tail_start < len(buf) else b""
    starts = starts[:complete]
    lengths = ends[:complete] - starts
    offsets = np.zeros(complete + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    if complete == 0:
        return _binary(offsets, b""), rest
    removed = np.concatenate([cr, lone_lf, cr[crlf] + 1]) if len(cr) or len(lone_lf) else np.array([], np.int64)
    content = np.delete(buf[:int(ends[complete - 1])], removed[removed < ends[complete - 1]])
    return _binary(offsets, content.tobytes()), rest


def _split_lf(data: bytes, at_end: bool) -> tuple[pa.BinaryArray, bytes]:
    """`split_block` for the common case of LF line ends only: one copy without the LFs."""
    lf = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == _LF)
    last = int(lf[-1]) + 1 if len(lf) else 0
    rest = data[last:]
    ends = lf - np.arange(len(lf))  # line i ends where its LF was, less the LFs removed before it
    if at_end and rest:
        ends = np.concatenate([ends, [len(data) - len(lf)]])
        rest = b""
    offsets = np.zeros(len(ends) + 1, dtype=np.int64)
    offsets[1:] = ends
    return _binary(offsets, data[:last].replace(b"\n", b"") + (data[last:] if at_end else b"")), rest


def _binary(offsets: np.ndarray, content: bytes) -> pa.BinaryArray:
    return pa.Array.from_buffers(pa.large_binary(), len(offsets) - 1,  # type: ignore[return-value]
                                 [None, pa.py_buffer(offsets), pa.py_buffer(content)])
