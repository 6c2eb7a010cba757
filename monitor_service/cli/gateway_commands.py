"""Gateway subcommands: `gateway` (the inference gateway process) and `transform` (batch transform).

`monitor gateway [--config FILE] [--database] [--host H] [--port P]` serves SageMaker-style
endpoints. With `--config` the file is the configuration (re-read when it changes); with
`--database` the service's database (`MONITOR_DATABASE_URL`) is, and REST changes
(`/api/v1/gateway/...`) apply within `Gateway.PollSeconds`; with both, the file seeds an empty
database. It binds 127.0.0.1 unless told otherwise. SIGTERM flushes the capture spool and
uploads it before the process exits.
"""

from __future__ import annotations

import argparse
import functools
import logging
import sys
from collections.abc import Callable
from typing import Any

from monitor_service.errors import ConfigError, MonitorError


def register(subparsers: Any) -> None:
    gateway = subparsers.add_parser("gateway", help="run the inference gateway (SageMaker-style endpoints)")
    gateway.add_argument("--config", metavar="FILE", help="gateway configuration, JSON or YAML (docs/gateway.md)")
    gateway.add_argument("--database", action="store_true",
                         help="take the configuration and variant weights from MONITOR_DATABASE_URL")
    gateway.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    gateway.add_argument("--port", type=int, default=8081, help="port (default 8081)")
    gateway.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    gateway.set_defaults(handler=cmd_gateway)

    transform = subparsers.add_parser("transform", help="batch transform: run a model over files on Spark")
    transform.add_argument("--model-name", required=True, help="a ModelName of the configuration")
    transform.add_argument("--config", required=True, metavar="FILE", help="gateway configuration with Models")
    transform.add_argument("--input", required=True, help="input file, folder or fsspec URL")
    transform.add_argument("--output", required=True, help="output folder (one .out file per input file)")
    transform.add_argument("--content-type", default="text/csv", help="content type of the input (text/csv)")
    transform.add_argument("--accept", help="content type of the output (default: the input's)")
    transform.add_argument("--split-type", default="Line", choices=("Line", "None"),
                           help="Line: one record per line; None: each file is one request")
    transform.add_argument("--batch-strategy", default="MultiRecord", choices=("SingleRecord", "MultiRecord"))
    transform.add_argument("--max-payload-mb", type=float, default=6.0, help="largest mini-batch (MaxPayloadInMB)")
    transform.add_argument("--capture", metavar="DESTINATION",
                           help="batch data capture: manifests and inference ids (SageMaker's DataCaptureConfig)")
    transform.add_argument("--spark-master", help="Spark master URL (default: local[*], or what spark-submit set)")
    transform.set_defaults(handler=cmd_transform)


def _reported(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Usage errors go up to `main` (exit 2); any other error of ours is one line and exit 1."""

    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except ConfigError:
            raise
        except MonitorError as exc:
            print(f"monitor {args.command}: error: {exc}", file=sys.stderr)
            return 1

    return run


@_reported
def cmd_gateway(args: argparse.Namespace) -> int:
    from monitor_service.gateway.server import run_gateway

    if not args.config and not args.database:
        raise ConfigError("monitor gateway needs --config FILE, --database, or both",
                          hint="see docs/gateway.md for the configuration file")
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    database_url = None
    if args.database:
        from monitor_service.settings import load_settings

        database_url = load_settings().database_url
    return run_gateway(config_path=args.config, database_url=database_url, host=args.host, port=args.port,
                       log_level=args.log_level)


@_reported
def cmd_transform(args: argparse.Namespace) -> int:
    from monitor_service.gateway.config import load_config
    from monitor_service.gateway.transform import TransformRequest, run_transform
    from monitor_service.spark.session import get_session

    config = load_config(args.config)
    request = TransformRequest(model_name=args.model_name, input=args.input, output=args.output,
                               content_type=args.content_type, accept=args.accept, split_type=args.split_type,
                               batch_strategy=args.batch_strategy, max_payload_mb=args.max_payload_mb,
                               capture=args.capture)
    spark = get_session(master=args.spark_master, app_name="monitor-transform")
    result = run_transform(spark, config, request)
    print(result.one_line())
    return 0 if result.failed_files == 0 else 1
