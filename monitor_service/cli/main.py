"""The `monitor` command line: baseline and analysis jobs, the demo, and the service commands.

Exit codes: 0 completed without violations, 3 completed with violations, 1 failed, 2 usage
error. On a terminal the run shows its progress on stderr; every run ends with a one-line
summary on stdout and writes `{output}/summary.json`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from monitor_service.errors import ConfigError
from monitor_service.runner.summary import EXIT_FAILED, EXIT_USAGE, RunSummary
from monitor_service.specs import INPUT_FORMATS, DatasetConfig, InputSpec, Window, parse_timestamp

MONITOR_TYPES = ("DataQuality", "ModelQuality")


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors, which is our usage exit code too."""


def _add_input_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--input", required=True, help="file, folder, glob or fsspec URL of the data")
    p.add_argument(
        "--format",
        choices=INPUT_FORMATS,
        default="capture",
        help="capture (SageMaker data-capture JSONL, default), csv, jsonl or parquet",
    )
    p.add_argument("--header", action="store_true", help="CSV files start with a header line")
    p.add_argument("--dataset-config", metavar="FILE", help="JSON file naming columns (see docs/dataset_config.md)")
    p.add_argument("--output", required=True, help="output folder (local path or fsspec URL)")
    p.add_argument("--start", help="window start on inferenceTime, ISO-8601 (inclusive)")
    p.add_argument("--end", help="window end on inferenceTime, ISO-8601 (exclusive)")
    p.add_argument("--monitor-type", choices=MONITOR_TYPES, default="DataQuality")
    p.add_argument("--spark-master", help="Spark master URL (default: local[*], or what spark-submit set)")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="monitor", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    baseline = sub.add_parser("baseline", help="profile a dataset and suggest constraints")
    _add_input_arguments(baseline)
    analyze = sub.add_parser("analyze", help="check one window of data against a baseline")
    _add_input_arguments(analyze)
    analyze.add_argument("--baseline-statistics", help="baseline statistics.json")
    analyze.add_argument("--baseline-constraints", help="baseline constraints.json")
    for command in (baseline, analyze):
        _add_model_quality_arguments(command)
    demo = sub.add_parser("demo", help="run the end-to-end demo on generated data")
    demo.add_argument("--workdir", default="demo-output", help="folder for generated data and results")
    demo.add_argument("--records-per-hour", type=int, default=2000)
    _register_service_commands(sub)
    return parser


def _add_model_quality_arguments(parser: argparse.ArgumentParser) -> None:
    from monitor_service.cli.model_quality_args import add_model_quality_arguments

    add_model_quality_arguments(parser)


def _register_service_commands(sub: Any) -> None:
    from monitor_service.cli.service_commands import register

    register(sub)


def _progress_printer(enabled: bool) -> Any:
    started = time.perf_counter()

    def show(message: str) -> None:
        if enabled:
            print(f"[{time.perf_counter() - started:6.1f}s] {message}", file=sys.stderr, flush=True)

    return show


def input_spec(args: argparse.Namespace) -> InputSpec:
    config = DatasetConfig.load(args.dataset_config)
    if args.header:
        config = config.model_copy(update={"header": True})
    window = None
    start, end = getattr(args, "start", None), getattr(args, "end", None)
    if (start is None) != (end is None):
        raise ConfigError("--start and --end must be given together", hint="pass both, or neither for all data")
    if start is not None and end is not None:
        try:
            window = Window(start=parse_timestamp(start, "--start"), end=parse_timestamp(end, "--end"))
        except ValueError as exc:
            raise ConfigError(f"invalid window: {exc}") from exc
    return InputSpec(path=args.input, format=args.format, dataset_config=config, window=window)


def spark_session(args: argparse.Namespace, progress: bool) -> Any:
    from monitor_service.spark.session import get_session

    conf = {}
    for item in args.spark_conf:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(
                f"--spark-conf {item!r} is not KEY=VALUE", hint="e.g. --spark-conf spark.driver.memory=2g"
            )
        conf[key] = value
    return get_session(master=args.spark_master, conf=conf, progress=progress)


def run_job(args: argparse.Namespace, progress_enabled: bool) -> RunSummary:
    """Validate the arguments, then run the requested job on a Spark session."""
    if args.monitor_type == "ModelQuality":
        from monitor_service.cli.model_quality_args import run_from_args

        return run_from_args(args, progress=_progress_printer(progress_enabled))
    from monitor_service.runner.requests import AnalyzeRequest, BaselineRequest

    spec = input_spec(args)
    show = _progress_printer(progress_enabled)
    if args.command == "baseline":
        request: Any = BaselineRequest(input=spec, output_dir=args.output)
    else:
        missing = [
            f"--{n}"
            for n in ("baseline-statistics", "baseline-constraints")
            if getattr(args, n.replace("-", "_")) is None
        ]
        if missing:
            raise ConfigError(f"analyze needs {' and '.join(missing)}", hint="pass the baseline's files")
        request = AnalyzeRequest(
            input=spec,
            baseline_statistics=args.baseline_statistics,
            baseline_constraints=args.baseline_constraints,
            output_dir=args.output,
        )
    show("starting Spark")
    spark = spark_session(args, progress_enabled)
    if args.command == "baseline":
        from monitor_service.runner.baseline import run_baseline

        return run_baseline(spark, request, show)
    from monitor_service.runner.analyze import run_analysis

    return run_analysis(spark, request, show)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command in ("baseline", "analyze"):
            summary = run_job(args, progress_enabled=sys.stderr.isatty())
            print(summary.one_line())
            return summary.exit_code
        if args.command == "demo":
            from monitor_service.demo import run_demo

            return run_demo(args.workdir, records_per_hour=args.records_per_hour)
        handler = getattr(args, "handler", None)
        if handler is None:
            parser.error(f"unknown command {args.command}")
        return int(handler(args))
    except ConfigError as exc:
        print(f"monitor: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("monitor: interrupted", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
