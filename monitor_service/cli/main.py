"""The `monitor` command line: baseline and analysis jobs of every monitor type, and the service commands.

Exit codes: 0 completed without violations, 3 completed with violations, 1 failed, 2 usage
error. On a terminal the run shows its progress on stderr; every run ends with a one-line
summary on stdout and writes `{output}/summary.json`. The monitor types and their own
arguments come from the monitor registry (`monitor_service.monitors`).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from typing import Any

from monitor_service.core.registry import Registry
from monitor_service.errors import ConfigError
from monitor_service.monitors import MONITORS
from monitor_service.monitors.base import CliArgument, MonitorPlugin, uses_spark
from monitor_service.runner.summary import EXIT_FAILED, EXIT_USAGE, RunSummary
from monitor_service.specs import INPUT_FORMATS, DatasetConfig, InputSpec, Window, parse_timestamp

ENGINES = ("spark", "duckdb", "deequ")


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on usage errors, which is our usage exit code too."""


def _add_input_arguments(p: argparse.ArgumentParser, monitors: Registry[MonitorPlugin]) -> None:
    p.add_argument("--input", required=True, help="file, folder, glob or fsspec URL of the data")
    p.add_argument(
        "--format",
        choices=INPUT_FORMATS,
        default="capture",
        help="capture (SageMaker data-capture JSONL, default), csv, jsonl or parquet",
    )
    p.add_argument("--header", action="store_true", help="CSV files start with a header line")
    p.add_argument("--dataset-config", metavar="FILE", help="JSON file naming columns (see README, Inputs)")
    p.add_argument("--output", required=True, help="output folder (local path or fsspec URL)")
    p.add_argument("--start", help="window start on inferenceTime, ISO-8601 (inclusive)")
    p.add_argument("--end", help="window end on inferenceTime, ISO-8601 (exclusive)")
    p.add_argument("--monitor-type", choices=monitors.names(), default=monitors.names()[0])
    p.add_argument("--engine", choices=ENGINES, default="spark",
                   help="spark (default; local or any cluster), duckdb (one machine, no JVM; data quality) or "
                        "deequ (data quality profiled by Amazon Deequ; docs/deequ.md)")
    p.add_argument("--spark-master", help="Spark master URL (default: local[*], or what spark-submit set)")
    p.add_argument("--spark-conf", action="append", default=[], metavar="KEY=VALUE", help="extra Spark setting")


def _add_monitor_arguments(parser: argparse.ArgumentParser, monitors: Registry[MonitorPlugin]) -> None:
    """Each monitor type's own arguments in a group of its own; a flag shared by several types is added once."""
    seen: dict[str, CliArgument] = {}
    for plugin in monitors:
        group = parser.add_argument_group(f"{plugin.title} (--monitor-type {plugin.monitor_type})")
        for argument in plugin.cli_arguments():
            first = seen.get(argument.flags[0])
            if first is not None:
                if _without_help(first) != _without_help(argument):
                    raise ValueError(f"monitor types declare {argument.flags[0]} differently")
                continue
            seen[argument.flags[0]] = argument
            group.add_argument(*argument.flags, **dict(argument.options))


def _without_help(argument: CliArgument) -> tuple[tuple[str, ...], dict[str, Any]]:
    return argument.flags, {k: v for k, v in argument.options.items() if k != "help"}


def build_parser(monitors: Registry[MonitorPlugin] = MONITORS) -> argparse.ArgumentParser:
    parser = _Parser(prog="monitor", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    baseline = sub.add_parser("baseline", help="profile a dataset into a baseline")
    analyze = sub.add_parser("analyze", help="check one window of data against a baseline")
    for command in (baseline, analyze):
        _add_input_arguments(command, monitors)
        command.add_argument("--baseline-constraints", metavar="FILE",
                             help="analyze: the baseline constraints (constraints.json, or Clarify's analysis.json)")
        _add_monitor_arguments(command, monitors)
    _register_service_commands(sub)
    return parser


def _register_service_commands(sub: Any) -> None:
    from monitor_service.cli.service_commands import register

    register(sub)
    from monitor_service.cli.gateway_commands import register as register_gateway

    register_gateway(sub)
    from monitor_service.cli.rollout_commands import register as register_rollouts

    register_rollouts(sub)


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


def run_job(args: argparse.Namespace, progress_enabled: bool,
            monitors: Registry[MonitorPlugin] = MONITORS) -> tuple[MonitorPlugin, RunSummary]:
    """Validate the arguments into the monitor type's request, then run its job on its engine.

    The Spark engine gets a session (its start-up is timed separately: summary.json's
    `startup_seconds`); the DuckDB engine runs in this process and no JVM is started.
    """
    plugin = monitors.get(args.monitor_type)
    if args.engine not in plugin.engines:
        raise ConfigError(f"{plugin.monitor_type} monitors run on {' or '.join(plugin.engines)}, not {args.engine}",
                          hint=f"drop --engine {args.engine}")
    request = plugin.cli_request(args.command, args, input_spec(args))
    from monitor_service.cli.preflight import preflight

    if (failed := preflight(args.command, plugin.monitor_type, request)) is not None:
        return plugin, failed  # a missing input is reported before Spark starts
    show = _progress_printer(progress_enabled)
    spark = None
    startup = 0.0
    if uses_spark(plugin.job_engine(request, args.engine)):
        show("starting Spark")
        started = time.perf_counter()
        spark = spark_session(args, progress_enabled)
        spark.range(1).count()  # the JVM's first job (JIT, code generation) is start-up, not analysis
        startup = time.perf_counter() - started
    elif args.spark_master or args.spark_conf:
        raise ConfigError("--spark-master and --spark-conf apply to the Spark engine only",
                          hint="drop them, or run with --engine spark")
    if args.command == "baseline":
        summary = plugin.run_baseline(spark, request, show)
    else:
        summary = plugin.run_analysis(spark, request, show)
    if startup and summary.artifacts.get("summary"):
        from monitor_service import io

        summary.startup_seconds = round(startup, 3)
        io.write_json_atomic(summary.artifacts["summary"], summary.model_dump(mode="json"))
    return plugin, summary


def main(argv: Sequence[str] | None = None, *, spark_submit: bool = False) -> int:
    """Run one command; under spark-submit (`spark_submit`) only the Spark engine is allowed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if spark_submit and getattr(args, "engine", "spark") not in ("spark", "deequ"):
            raise ConfigError("spark-submit runs the Spark engines only (spark, deequ)",
                              hint="run `monitor ... --engine duckdb` directly, without spark-submit")
        if args.command in ("baseline", "analyze"):
            plugin, summary = run_job(args, progress_enabled=sys.stderr.isatty())
            print(summary.one_line(features=plugin.counts_features))
            return summary.exit_code
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
