"""Batch transform on Spark: run a model of the gateway configuration over files, SageMaker's way.

One Spark task per input file (SageMaker's unit too: an instance takes whole files), run with
`mapInPandas` over the list of files; the model is broadcast once (the model file's bytes for the
built-in frameworks, loaded once per executor process; the definition for `script`, `container`
and pipelines, whose paths or URLs the executors reach). `SplitType=Line` makes every line a
record; `BatchStrategy=MultiRecord` sends as many records per call as fit in `MaxPayloadInMB`,
`SingleRecord` one. Each input file gives `{output}/{relative path}.out` with one line per record
(`AssembleWith=Line`), written under a hidden temporary name and renamed, so a rerun skips the
inputs whose output exists (resumable) and never sees half a file.

A record the model refuses does not fail the job: a failed mini-batch is retried one record at a
time, and the records that still fail are left out of the `.out` file and listed (line number and
message) in `{output}/_quarantine/_{relative path}.failed.jsonl`; they are counted in the result.

With a capture destination (SageMaker's batch `DataCaptureConfig`, section 2): every output
record carries an inference id and the job's start time (`GenerateInferenceId`: two trailing CSV
columns, or `SageMakerInferenceId` / `SageMakerInferenceTime` keys in JSON, the model's output
under `SageMakerOutput` when it is not an object), and the job writes SageMaker's manifests,
`{capture}/input/yyyy/mm/dd/hh/{uuid}.json` and `{capture}/output/...` (the hour of the job's start),
each `[{"prefix": ...}, "file", ...]`. Inference ids are UUIDv5 of the file and line, so a rerun
gives the same ids.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from monitor_service.capture.record import format_inference_time
from monitor_service.errors import ConfigError, InputError, ModelError, ModelInvocationError
from monitor_service.gateway import serde
from monitor_service.gateway.config import GatewayConfig, ModelDefinition
from monitor_service.gateway.invokers import BuildContext, Invocation, Invoker, PipelineInvoker, build_container
from monitor_service.gateway.uploader import put_local

_ID_NAMESPACE = uuid.UUID("6f1c1d4e-8f0b-4a8e-9b7e-2f6f3c1a9d20")
_RESULT_SCHEMA = ("file string, output string, records long, failed long, status string, error string, "
                  "seconds double")


class TransformRequest(BaseModel):
    """The CreateTransformJob parameters that matter here, validated once."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model_name: str
    input: str
    output: str
    content_type: str = "text/csv"
    accept: str | None = None
    split_type: Literal["Line", "None"] = "Line"
    batch_strategy: Literal["SingleRecord", "MultiRecord"] = "MultiRecord"
    max_payload_mb: float = Field(default=6.0, gt=0, le=100)
    capture: str | None = None


@dataclass
class TransformResult:
    files: int = 0
    skipped_files: int = 0
    failed_files: int = 0
    records: int = 0
    failed_records: int = 0
    seconds: float = 0.0
    manifests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def one_line(self) -> str:
        status = "Completed" if not self.failed_files else "Failed"
        text = (f"transform {status}: {self.files} files ({self.skipped_files} skipped: output exists), "
                f"{self.records} records, {self.failed_records} failed records, {self.seconds:.1f} s")
        return text + (f"; {self.errors[0]}" if self.errors else "")


@dataclass(frozen=True)
class _Task:
    source: str
    relative: str
    output: str


@dataclass(frozen=True)
class _Shipped:
    """What the broadcast carries: the model's definition and the built-in containers' model bytes."""

    model: ModelDefinition
    sources: dict[int, Any]
    cache_dir: str


def run_transform(spark: Any, config: GatewayConfig, request: TransformRequest) -> TransformResult:
    started = time.perf_counter()
    start_time = datetime.now(UTC).replace(microsecond=0)
    model = next((m for m in config.Models if m.ModelName == request.model_name), None)
    if model is None:
        raise ConfigError(f"--model-name {request.model_name!r} is not a model of the configuration",
                          hint=f"models: {', '.join(m.ModelName for m in config.Models) or 'none'}")
    if any(c.Mode == "MultiModel" for c in model.containers()):
        raise ConfigError(f"model {model.ModelName} is a multi-model container; batch transform needs one model")
    if serde.kind_of(request.content_type) is None and request.split_type == "Line":
        raise ConfigError(f"--content-type {request.content_type!r} cannot be split into lines",
                          hint="use text/csv, application/jsonlines or --split-type None")
    tasks, skipped, resolved, input_prefix = _plan(request)
    result = TransformResult(files=len(tasks) + len(skipped), skipped_files=len(skipped))
    try:
        if tasks:
            shipped = _Shipped(model, _sources(model, config), config.Gateway.ModelCacheDirectory)
            broadcast = spark.sparkContext.broadcast(shipped)
            frame = spark.createDataFrame([(t.source, t.relative, t.output) for t in tasks],
                                          "source string, relative string, output string")
            frame = frame.repartition(min(len(tasks), max(1, spark.sparkContext.defaultParallelism)), "relative")
            options = request.model_dump()
            job_time = format_inference_time(start_time)

            def run(batches: Iterator[Any]) -> Iterator[Any]:
                import pandas as pd

                invoker = _executor_invoker(broadcast.value)
                for batch in batches:
                    rows = [_transform_file(invoker, _Task(s, r, o), options, job_time)
                            for s, r, o in zip(batch["source"], batch["relative"], batch["output"], strict=True)]
                    yield pd.DataFrame(rows, columns=["file", "output", "records", "failed", "status", "error",
                                                      "seconds"])

            for row in frame.mapInPandas(run, _RESULT_SCHEMA).collect():
                result.records += int(row["records"])
                result.failed_records += int(row["failed"])
                if row["status"] != "Completed":
                    result.failed_files += 1
                    result.errors.append(f"{row['file']}: {row['error']}")
            broadcast.unpersist()
        if request.capture:
            result.manifests = _write_manifests(request, input_prefix, [t.relative for t in tasks] + skipped,
                                                start_time)
    finally:
        resolved.cleanup()
    result.seconds = time.perf_counter() - started
    return result


def _plan(request: TransformRequest) -> tuple[list[_Task], list[str], Any, str]:
    """Input files and their outputs; inputs whose output already exists are skipped (resumable)."""
    import fsspec

    from monitor_service.spark.sources import resolve_input

    resolved = resolve_input(request.input)
    fs, root = fsspec.core.url_to_fs(request.input)
    single = fs.isfile(root)
    tasks, skipped = [], []
    for local in resolved.files:
        original = resolved.originals.get(local, local)
        stripped = fs._strip_protocol(original) if "://" in original else original
        relative = Path(stripped).name if single else os.path.relpath(stripped, root)
        output = _join(request.output, relative + ".out")
        if _exists(output):
            skipped.append(relative)
        else:
            tasks.append(_Task(local, relative, output))
    prefix = request.input.rstrip("/").rsplit("/", 1)[0] if single else request.input.rstrip("/")
    return tasks, skipped, resolved, prefix + "/"


def _join(base: str, relative: str) -> str:
    return f"{base.rstrip('/')}/{relative}"


def _exists(path: str) -> bool:
    if "://" in path and not path.startswith("file://"):
        import fsspec

        fs, target = fsspec.core.url_to_fs(path)
        return bool(fs.exists(target))
    return Path(path.removeprefix("file://")).exists()


def _sources(model: ModelDefinition, config: GatewayConfig) -> dict[int, Any]:
    from monitor_service.gateway.builtin import MODEL_SUFFIXES, model_source

    return {i: model_source(c, config.Gateway.ModelCacheDirectory) for i, c in enumerate(model.containers())
            if c.Framework in MODEL_SUFFIXES}


_EXECUTOR_INVOKERS: dict[int, Invoker] = {}


def _executor_invoker(shipped: _Shipped) -> Invoker:
    """Build the model once per executor process (keyed by the broadcast's content)."""
    key = hash((shipped.model.model_dump_json(), tuple(s.digest for s in shipped.sources.values())))
    invoker = _EXECUTOR_INVOKERS.get(key)
    if invoker is None:
        from monitor_service.gateway.builtin import BuiltinInvoker

        context = BuildContext(cache_dir=Path(shipped.cache_dir))
        stages: list[Invoker] = []
        for i, container in enumerate(shipped.model.containers()):
            if i in shipped.sources:
                stages.append(BuiltinInvoker(container, shipped.model.ModelName, context, shipped.sources[i]))
            else:
                stages.append(build_container(container, shipped.model.ModelName, context))
        invoker = stages[0] if len(stages) == 1 else PipelineInvoker(stages)
        _EXECUTOR_INVOKERS[key] = invoker
    return invoker


def _transform_file(invoker: Invoker, task: _Task, options: dict[str, Any], job_time: str) -> dict[str, Any]:
    started = time.perf_counter()
    content_type, accept = options["content_type"], options["accept"] or options["content_type"]
    records = failed = 0
    outputs: list[bytes] = []
    failures: list[dict[str, Any]] = []
    try:
        data = Path(task.source).read_bytes()
        items = _records(data, options["split_type"])
        for batch in _batches(items, options["batch_strategy"], int(options["max_payload_mb"] * 1024 * 1024)):
            for number, out in _call(invoker, batch, content_type, accept, failures):
                outputs.append(_with_id(out, accept, task.relative, number, job_time)
                               if options["capture"] else out)
                records += 1
        failed = len(failures)
        _write(task.output, b"".join(o.rstrip(b"\n") + b"\n" for o in outputs))
        if failures:
            folder, _, name = task.relative.rpartition("/")
            hidden = f"{folder}/_{name}" if folder else f"_{name}"  # readers of the output skip it
            _write(_join(options["output"], f"_quarantine/{hidden}.failed.jsonl"),
                   "".join(json.dumps(f) + "\n" for f in failures).encode())
        status, error = "Completed", None
    except (OSError, InputError, ModelError, ValueError) as exc:
        status, error = "Failed", f"{exc.__class__.__name__}: {exc}"
    return {"file": task.relative, "output": task.output, "records": records, "failed": failed, "status": status,
            "error": error, "seconds": time.perf_counter() - started}


def _records(data: bytes, split_type: str) -> list[tuple[int, bytes]]:
    """(line number, record) pairs; blank lines are not records."""
    if split_type == "None":
        return [(1, data)]
    return [(i, line + b"\n") for i, line in enumerate(data.splitlines(), 1) if line.strip()]


def _batches(items: list[tuple[int, bytes]], strategy: str, max_bytes: int) -> Iterator[list[tuple[int, bytes]]]:
    if strategy == "SingleRecord":
        yield from ([item] for item in items)
        return
    batch: list[tuple[int, bytes]] = []
    size = 0
    for item in items:
        if batch and size + len(item[1]) > max_bytes:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item[1])
    if batch:
        yield batch


def _call(invoker: Invoker, batch: list[tuple[int, bytes]], content_type: str, accept: str,
          failures: list[dict[str, Any]]) -> list[tuple[int, bytes]]:
    """Outputs of a mini-batch, one per record; on a refusal, each record is tried alone."""
    try:
        reply = invoker.call(Invocation(b"".join(r for _, r in batch), content_type, accept))
        outputs = _split_reply(reply.body, reply.content_type)
        if len(outputs) == len(batch):
            return [(number, out) for (number, _), out in zip(batch, outputs, strict=True)]
        problem = f"the model answered {len(outputs)} records for {len(batch)}"
    except ModelInvocationError as exc:
        problem = f"the model answered {exc.status}: {exc.message}"
    if len(batch) == 1:
        failures.append({"line": batch[0][0], "error": problem})
        return []
    return [out for item in batch for out in _call(invoker, [item], content_type, accept, failures)]


def _split_reply(body: bytes, content_type: str) -> list[bytes]:
    if serde.kind_of(content_type) == "json":
        try:
            doc = json.loads(body)
        except json.JSONDecodeError:
            return [body]
        values = doc.get("predictions", [doc]) if isinstance(doc, dict) else doc
        return [json.dumps(v).encode() for v in values] if isinstance(values, list) else [body]
    return [line for line in body.splitlines() if line.strip()]


def _with_id(output: bytes, accept: str, relative: str, number: int, job_time: str) -> bytes:
    """GenerateInferenceId: the record's id and the job's start time, as SageMaker appends them."""
    inference_id = str(uuid.uuid5(_ID_NAMESPACE, f"{relative}:{number}"))
    if serde.kind_of(accept) == "csv" or serde.kind_of(accept) is None:
        return output.rstrip(b"\n") + f",{inference_id},{job_time}".encode()
    value = json.loads(output)
    record = dict(value) if isinstance(value, dict) else {"SageMakerOutput": value}
    record.update({"SageMakerInferenceId": inference_id, "SageMakerInferenceTime": job_time})
    return json.dumps(record).encode()


def _write(path: str, data: bytes) -> None:
    if "://" in path and not path.startswith("file://"):
        import fsspec

        fs, target = fsspec.core.url_to_fs(path)
        fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
        fs.pipe_file(target, data)
        return
    put_local(Path(path.removeprefix("file://")), data)


def _write_manifests(request: TransformRequest, input_prefix: str, relatives: list[str],
                     start: datetime) -> list[str]:
    hour = f"{start:%Y/%m/%d/%H}"
    written = []
    for kind, prefix, names in (("input", input_prefix, sorted(relatives)),
                                ("output", request.output.rstrip("/") + "/", sorted(r + ".out" for r in relatives))):
        path = _join(request.capture or "", f"{kind}/{hour}/{uuid.uuid4()}.json")
        _write(path, json.dumps([{"prefix": prefix}, *names]).encode())
        written.append(path)
    return written
