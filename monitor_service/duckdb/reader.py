"""One entry point of the DuckDB engine: an input spec to read counts and a profile, in one pass.

Files are listed (and pruned to the window's hour folders) as the Spark engine lists them,
read as line batches, decoded (DuckDB SQL, Python for the unusual lines), then counted,
quarantined, window-filtered and profiled batch by batch. Decoding runs in a background
thread while the previous batch is profiled, so both cores work; the queue between them holds
two batches, which bounds memory whatever the input size.
"""

from __future__ import annotations

import collections
import contextlib
import queue
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from monitor_service.core.profile import DatasetProfile
from monitor_service.duckdb import kernels
from monitor_service.duckdb.capture import CaptureDecoder
from monitor_service.duckdb.connection import connect
from monitor_service.duckdb.datasets import dataset_decoder
from monitor_service.duckdb.lines import LineBatch, file_lines, open_input, source_name
from monitor_service.duckdb.window import RecordBatch, WindowReader
from monitor_service.runner.cancel import RunCancelled, cancelled
from monitor_service.runner.common import ReadCounts
from monitor_service.spark.datasets import csv_header, suffixes_for
from monitor_service.spark.sources import list_input
from monitor_service.specs import InputSpec

_DONE = object()
# Line batches decoded at once (each on its own DuckDB cursor; DuckDB releases the GIL).
DECODE_THREADS = 2


def profile_input(spec: InputSpec, quarantine_dir: str | None, *, domains: dict[str, list[str]] | None = None,
                  categorical: set[str] | None = None) -> tuple[ReadCounts, DatasetProfile]:
    """Read `spec` and profile its good records; bad ones are counted and sampled to `quarantine_dir`."""
    listed = list_input(spec.path, spec.window if spec.format == "capture" else None, suffixes_for(spec.format))
    sources = [source_name(p if listed.is_local else listed.fs.unstrip_protocol(p), listed.is_local)
               for p in listed.files]
    input_names = None
    if spec.format == "csv" and spec.dataset_config.header and listed.files:
        header_path = listed.files[0] if listed.is_local else listed.fs.unstrip_protocol(listed.files[0])
        input_names = spec.dataset_config.input.names or csv_header(header_path, spec.dataset_config.csv_delimiter)
    window = WindowReader(spec, sources, domains=domains, input_names=input_names)
    described = spec.path
    if listed.pruned_by_window:
        described += f" ({listed.pruned_by_window} hour folders outside the window skipped)"
    with connect() as con, _Decoders(con, spec, input_names) as decoders:
        batches = _background(decoders.decoded(listed))
        kernels.warm_up()  # while the first batch is read and decoded
        for batch in batches:
            window.add(batch)
    return window.finish(quarantine_dir, described, categorical)


class _Decoders:
    """Decoding on `DECODE_THREADS` threads, each with its own DuckDB cursor, results in input order."""

    def __init__(self, con: Any, spec: InputSpec, input_names: list[str] | None) -> None:
        self.con, self.spec, self.input_names = con, spec, input_names
        self.local = threading.local()
        self.cursors: list[Any] = []
        self.lock = threading.Lock()
        self.pool = ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="duckdb-decode")

    def __enter__(self) -> _Decoders:
        return self

    def __exit__(self, *_: object) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        for cursor in self.cursors:
            cursor.close()

    def _decoder(self) -> Any:
        decoder = getattr(self.local, "decoder", None)
        if decoder is None:
            with self.lock:
                cursor = self.con.cursor()
                self.cursors.append(cursor)
            if self.spec.format == "capture":
                decoder = CaptureDecoder(cursor, self.spec.dataset_config)
            else:
                decoder = dataset_decoder(cursor, self.spec, self.input_names)
            self.local.decoder = decoder
        return decoder

    def _decode(self, lines: LineBatch) -> list[RecordBatch]:
        return list(self._decoder().decode(lines))

    def decoded(self, listed: Any) -> Iterator[RecordBatch]:
        limit = self.spec.dataset_config.max_line_bytes
        if self.spec.format == "capture":
            yield from self._decoder().decode_stream(_lines(listed, limit))
            return
        if self.spec.format == "parquet":
            decoder = self._decoder()
            for index, path in enumerate(listed.files):
                yield from decoder.decode_file(listed.fs, path, index)
            return
        pending: collections.deque[Future[list[RecordBatch]]] = collections.deque()
        for index, path in enumerate(listed.files):
            with open_input(listed.fs, path) as handle:
                for lines in file_lines(handle, index, max_line_bytes=limit):
                    pending.append(self.pool.submit(self._decode, lines))
                    while len(pending) > DECODE_THREADS:
                        yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def _lines(listed: Any, max_line_bytes: int) -> Iterator[LineBatch]:
    for index, path in enumerate(listed.files):
        with open_input(listed.fs, path) as handle:
            yield from file_lines(handle, index, max_line_bytes=max_line_bytes)


def _background(batches: Iterator[RecordBatch]) -> Iterator[RecordBatch]:
    """Start `batches` in a thread now, at most two batches ahead of the consumer.

    Errors of the thread are re-raised to the consumer. Between batches the run's cancellation
    is checked (`runner.cancel`), so a stopped run ends within one batch.
    """
    slots: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    return
                slots.put(batch)
        except BaseException as exc:  # handed to the consumer, which raises it
            slots.put(exc)
            return
        slots.put(_DONE)

    worker = threading.Thread(target=produce, name="duckdb-decode", daemon=True)
    worker.start()

    def consume() -> Iterator[RecordBatch]:
        try:
            while True:
                if cancelled():
                    raise RunCancelled("the run was stopped while it read its input")
                item = slots.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            while worker.is_alive():
                with contextlib.suppress(queue.Empty):
                    slots.get(timeout=0.1)
            worker.join()

    return consume()
