"""The autoscaling simulation as a self-contained HTML report (plotly, via reports/html.py)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from monitor_service.reports.html import Section, figure, key_values, render_page, table
from monitor_service.rollout.autoscaling import ScalingPolicy, Tick


def write_plot(path: str, policy: ScalingPolicy, ticks: Sequence[Tick]) -> str:
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    seconds = [t.second for t in ticks]
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=("Request rate (req/s)", "Instances", "Modelled latency (ms)"))
    fig.add_trace(go.Scatter(x=seconds, y=[t.request_rate for t in ticks], name="req/s"), row=1, col=1)
    fig.add_trace(go.Scatter(x=seconds, y=[t.instances for t in ticks], name="instances", line_shape="hv"),
                  row=2, col=1)
    fig.add_trace(go.Scatter(x=seconds, y=[t.in_service for t in ticks], name="in service", line_shape="hv"),
                  row=2, col=1)
    fig.add_trace(go.Scatter(x=seconds, y=[t.latency_ms for t in ticks], name="latency"), row=3, col=1)
    fig.update_xaxes(title_text="second", row=3, col=1)
    tt = policy.TargetTrackingScalingPolicyConfiguration
    summary = Section("Policy").add(key_values([
        ("MinCapacity", policy.MinCapacity), ("MaxCapacity", policy.MaxCapacity),
        ("TargetValue (invocations per instance per minute)", tt.TargetValue),
        ("ScaleOutCooldown (s)", tt.ScaleOutCooldown), ("ScaleInCooldown (s)", tt.ScaleInCooldown),
        ("ServiceTimeMs", policy.Simulation.ServiceTimeMs),
        ("ConcurrencyPerInstance", policy.Simulation.ConcurrencyPerInstance)]))
    actions = Section("Scaling activities").add(table(
        ("second", "req/s", "action"), [(t.second, t.request_rate, t.action) for t in ticks if t.action]))
    page = render_page("Autoscaling simulation", "SageMakerVariantInvocationsPerInstance target tracking",
                       [summary, Section("Over time").add(figure(fig, height=720)), actions])
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return str(out)
