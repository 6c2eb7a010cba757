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
_LF, _CR = 10, 13


@dataclass
class LineBatch:
    """Consecutive lines of one file: `line_no` counts from 0 within the file."""

    file_index: int
    lines: pa.BinaryArray
    first_line: int

    def __len__(self) -> int:
        return len(self.lines)

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


def file_lines(handle: IO[bytes], file_index: int, block_bytes: int = BLOCK_BYTES) -> Iterator[LineBatch]:
    """The lines of one open file, a block at a time."""
    carry = b""
    line_no = 0
    while True:
        block = handle.read(block_bytes)
        at_end = not block
        data = carry + block if carry else block
        if not data:
            return
        lines, rest = split_block(data, at_end)
        carry = rest
        if len(lines):
            yield LineBatch(file_index, lines, line_no)
            line_no += len(lines)
        if at_end:
            return


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
