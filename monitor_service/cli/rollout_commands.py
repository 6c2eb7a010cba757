"""Rollout subcommands: `monitor rollout start|list|show|watch|promote|rollback|stop|report` and
`monitor autoscale simulate`.

Rollout commands work on the service's database (`MONITOR_DATABASE_URL`), as the REST routes do
(`/api/v1/gateway/...rollouts`); gateway processes started with `--database` act on them.
`monitor autoscale simulate --policy FILE --trace FILE [--plot OUT.html]` replays a request-rate
trace through SageMaker's target-tracking policy and prints (and plots) instances and latency.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from monitor_service.cli.gateway_commands import _reported
from monitor_service.errors import ConfigError


def register(subparsers: Any) -> None:
    rollout = subparsers.add_parser("rollout", help="deployments, shadow tests, A/B tests and bandits on the gateway")
    sub = rollout.add_subparsers(dest="rollout_command", required=True)
    start = sub.add_parser("start", help="start a rollout on an endpoint from a spec file (JSON or YAML)")
    start.add_argument("endpoint", help="EndpointName")
    start.add_argument("--spec", required=True, metavar="FILE", help="the Spec (Kind: Deployment | Shadow | ABTest "
                       "| Bandit), see docs/deployments.md")
    start.add_argument("--comment")
    start.set_defaults(handler=cmd_start)
    listing = sub.add_parser("list", help="rollouts, newest first")
    listing.add_argument("--endpoint")
    listing.add_argument("--status", choices=("InProgress", "Completed", "RolledBack", "Stopped"))
    listing.set_defaults(handler=cmd_list)
    for name, helptext, handler in (("show", "a rollout's state as JSON", cmd_show),
                                    ("report", "an A/B test's report (metrics, significance) or a shadow "
                                               "test's comparison, as JSON", cmd_report),
                                    ("rollback", "roll back: traffic returns to where it was", cmd_rollback),
                                    ("stop", "stop (a deployment halts at its current weights)", cmd_stop)):
        command = sub.add_parser(name, help=helptext)
        command.add_argument("rollout_id")
        command.set_defaults(handler=handler)
    promote = sub.add_parser("promote", help="promote: the new variant (or --variant) takes all the traffic")
    promote.add_argument("rollout_id")
    promote.add_argument("--variant", help="A/B tests and bandits: the variant to promote (default: the best arm)")
    promote.set_defaults(handler=cmd_promote)
    shadow = sub.add_parser("shadow-report", help="compare a shadow variant with production on their capture")
    shadow.add_argument("--capture", required=True, help="the endpoint's DataCaptureConfig destination")
    shadow.add_argument("--endpoint", required=True)
    shadow.add_argument("--production", required=True, help="the source (production) variant")
    shadow.add_argument("--shadow", required=True, help="the shadow variant")
    shadow.add_argument("--ground-truth", help="ground-truth folder (SageMaker JSONL, by inference id)")
    shadow.add_argument("--tolerance", type=float, default=0.0, help="numbers closer than this agree (default 0)")
    shadow.add_argument("--output", required=True, help="folder for comparison.json and report.html")
    shadow.set_defaults(handler=cmd_shadow_report)
    watch = sub.add_parser("watch", help="print the rollout's events as they happen until it finishes")
    watch.add_argument("rollout_id")
    watch.add_argument("--interval", type=float, default=1.0, help="seconds between looks (default 1)")
    watch.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")
    watch.set_defaults(handler=cmd_watch)

    autoscale = subparsers.add_parser("autoscale", help="autoscaling (SageMaker target tracking)")
    auto_sub = autoscale.add_subparsers(dest="autoscale_command", required=True)
    simulate = auto_sub.add_parser("simulate", help="replay a request-rate trace through a scaling policy")
    simulate.add_argument("--policy", required=True, metavar="FILE", help="MinCapacity, MaxCapacity, "
                          "TargetTrackingScalingPolicyConfiguration (+ Simulation), JSON or YAML")
    simulate.add_argument("--trace", required=True, metavar="FILE", help="CSV 'second,requests_per_second'")
    simulate.add_argument("--plot", metavar="HTML", help="write instances and latency over time as a report")
    simulate.add_argument("--every", type=int, default=None, help="print one row per this many seconds "
                          "(default: only rows where something changed)")
    simulate.set_defaults(handler=cmd_simulate)


def _session(fn: Any) -> Any:
    from monitor_service.cli.service_commands import _with_session

    return _with_session(fn)


def _print_rollout(row: Any) -> None:
    state = row.state
    weights = state.get("weights") or state.get("initial_weights") or {}
    shares = ", ".join(f"{k} {v:g}" for k, v in sorted(weights.items()))
    print(f"{row.id}  {row.endpoint_name}  {row.kind:<10}  {row.status:<10}  {state.get('phase', '')}  "
          f"weights: {shares}  {row.reason or ''}")


@_reported
def cmd_start(args: argparse.Namespace) -> int:
    from pathlib import Path

    from monitor_service.gateway.config import parse_text
    from monitor_service.service import rollouts as service

    try:
        spec = parse_text(Path(args.spec).read_text(encoding="utf-8"), f"rollout spec {args.spec}")
    except OSError as exc:
        raise ConfigError(f"cannot read rollout spec {args.spec}: {exc.strerror}") from exc
    request = service.parse_request({"Spec": spec, "Comment": args.comment})
    row = _session(lambda s, now: _snapshot(service.start(s, args.endpoint, request, now=now, created_by=None)))
    _print_rollout(row)
    return 0


def _snapshot(row: Any) -> Any:
    """A detached copy of what the printers need (the session closes after the transaction)."""
    return argparse.Namespace(id=row.id, endpoint_name=row.endpoint_name, kind=row.kind, status=row.status,
                              state=dict(row.state), reason=row.reason, spec=dict(row.spec))


@_reported
def cmd_list(args: argparse.Namespace) -> int:
    from monitor_service.service import rollouts as service

    rows = _session(lambda s, now: [_snapshot(r) for r in service.list_rollouts(s, endpoint=args.endpoint,
                                                                                status=args.status)])
    for row in rows:
        _print_rollout(row)
    return 0


@_reported
def cmd_show(args: argparse.Namespace) -> int:
    from monitor_service.service import rollouts as service

    row = _session(lambda s, now: _snapshot(service.get_rollout(s, args.rollout_id)))
    print(json.dumps({"id": row.id, "EndpointName": row.endpoint_name, "Kind": row.kind, "Status": row.status,
                      "Reason": row.reason, "Spec": row.spec, "State": row.state}, indent=2, default=str))
    return 0


@_reported
def cmd_report(args: argparse.Namespace) -> int:
    from monitor_service.service import rollouts as service

    report = _session(lambda s, now: service.report(s, service.get_rollout(s, args.rollout_id)))
    print(json.dumps(report, indent=2, default=str))
    return 0


def _change(args: argparse.Namespace, action: str) -> int:
    from monitor_service.service import rollouts as service

    def run(session: Any, now: Any) -> Any:
        if action == "promote":
            return _snapshot(service.promote(session, args.rollout_id, variant=args.variant, now=now, actor=None))
        if action == "rollback":
            return _snapshot(service.roll_back(session, args.rollout_id, now=now, actor=None))
        return _snapshot(service.stop(session, args.rollout_id, now=now, actor=None))

    _print_rollout(_session(run))
    return 0


@_reported
def cmd_promote(args: argparse.Namespace) -> int:
    return _change(args, "promote")


@_reported
def cmd_rollback(args: argparse.Namespace) -> int:
    return _change(args, "rollback")


@_reported
def cmd_stop(args: argparse.Namespace) -> int:
    return _change(args, "stop")


@_reported
def cmd_watch(args: argparse.Namespace) -> int:
    from monitor_service.service import rollouts as service

    after = 0
    deadline = None if args.timeout is None else time.monotonic() + args.timeout
    while True:
        def look(session: Any, now: Any, after: int = after) -> tuple[str, list[tuple[int, str, str, dict[str, Any]]]]:
            row = service.get_rollout(session, args.rollout_id)
            rows = service.events(session, args.rollout_id, after=after)
            return row.status, [(e.id, e.created_at.isoformat(), e.kind, e.detail) for e in rows]

        status, new = _session(look)
        for event_id, at, kind, detail in new:
            after = event_id
            print(f"{at}  {kind:<15}  {json.dumps(detail, default=str)}", flush=True)
        if status != "InProgress":
            print(f"rollout {args.rollout_id}: {status}")
            return 0 if status == "Completed" else 1
        if deadline is not None and time.monotonic() > deadline:
            print(f"rollout {args.rollout_id}: still InProgress after {args.timeout:g} s", file=sys.stderr)
            return 1
        time.sleep(args.interval)


@_reported
def cmd_shadow_report(args: argparse.Namespace) -> int:
    from monitor_service.rollout.shadow_report import compare, write

    result = compare(args.capture, args.endpoint, args.production, args.shadow, ground_truth=args.ground_truth,
                     tolerance=args.tolerance)
    path = write(result, args.output)
    rate = result["agreement_rate"]
    print(f"{result['joined']} requests joined; agreement {'n/a' if rate is None else f'{rate:.2%}'}; "
          f"report: {path}")
    return 0


@_reported
def cmd_simulate(args: argparse.Namespace) -> int:
    from monitor_service.rollout.autoscaling import load_policy, load_trace, simulate

    policy = load_policy(args.policy)
    ticks = simulate(policy, load_trace(args.trace))
    print(f"{'second':>7} {'req/s':>8} {'instances':>9} {'serving':>7} {'inv/inst/min':>12} {'latency ms':>10}  action")
    previous = None
    for t in ticks:
        row = (t.instances, t.in_service, t.action)
        if (args.every and t.second % args.every == 0) or (not args.every and row != previous) or t is ticks[-1]:
            print(f"{t.second:>7} {t.request_rate:>8.1f} {t.instances:>9} {t.in_service:>7} "
                  f"{t.invocations_per_instance_minute:>12.1f} {t.latency_ms:>10.1f}  {t.action or ''}")
        previous = row
    outs = sum(1 for t in ticks if t.action and t.action.startswith("scale out"))
    ins = sum(1 for t in ticks if t.action and t.action.startswith("scale in"))
    print(f"{outs} scale-outs, {ins} scale-ins; instances between {min(t.instances for t in ticks)} and "
          f"{max(t.instances for t in ticks)} (bounds {policy.MinCapacity}-{policy.MaxCapacity}); "
          f"p99 latency {sorted(t.latency_ms for t in ticks)[int(0.99 * (len(ticks) - 1))]:.1f} ms")
    if args.plot:
        from monitor_service.rollout.autoscale_plot import write_plot

        print(f"plot: {write_plot(args.plot, policy, ticks)}")
    return 0
