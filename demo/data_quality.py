"""The data-quality monitor end to end on generated capture data.

Generates five hours of SageMaker-style endpoint capture (plus a few broken lines), builds a
baseline from the first hour, then analyzes each later hour as its own window: the clean
hours pass, the drifted hour is flagged.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from demo.synthetic import CaptureShape, write_capture_hour
from monitor_service.runner.summary import EXIT_COMPLETED, EXIT_FAILED
from monitor_service.specs import InputSpec, Window

DEMO_START = datetime(2026, 11, 1, 0, tzinfo=UTC)
DRIFTED_HOUR = 3
BROKEN_LINES = [
    "{not json at all",
    '{"captureData":{"endpointInput":{"observedContentType":"text/csv","mode":"INPUT",'
    '"data":"@@not base64@@","encoding":"BASE64"}},"eventMetadata":{"eventId":"broken-1",'
    '"inferenceTime":"2026-11-01T02:10:00Z"},"eventVersion":"0"}',
    '{"eventMetadata":{"eventId":"broken-2","inferenceTime":"2026-11-01T02:11:00Z"},"eventVersion":"0"}',
]


def generate(workdir: Path, records_per_hour: int, hours: int = 5) -> Path:
    """Write `hours` hours of capture under `{workdir}/capture`; hour DRIFTED_HOUR is drifted."""
    root = workdir / "capture"
    shape = CaptureShape(numeric_features=8)
    for h in range(hours):
        hour = DEMO_START + timedelta(hours=h)
        path = write_capture_hour(
            root, hour, records_per_hour, shape, seed=100 + h, drift=0.6 if h == DRIFTED_HOUR else 0.0
        )
        if h == 2:
            with path.open("a", encoding="utf-8") as handle:
                handle.write("\n".join(BROKEN_LINES) + "\n")
    return root


def run_data_quality_demo(base: Path, spark: object, records_per_hour: int = 2000) -> tuple[int, Path, dict[str, str]]:
    """Generate, baseline and analyze each hour; returns (exit code, capture folder, baseline files)."""
    from monitor_service.monitors.data_quality.analysis_job import run_analysis
    from monitor_service.monitors.data_quality.baseline_job import run_baseline
    from monitor_service.monitors.data_quality.requests import AnalyzeRequest, BaselineRequest

    print(f"== generating capture data in {base / 'capture'}")
    capture = generate(base, records_per_hour)
    first = Window(start=DEMO_START, end=DEMO_START + timedelta(hours=1))
    print("== baseline from hour 0")
    baseline = run_baseline(
        spark, BaselineRequest(input=InputSpec(path=str(capture), window=first), output_dir=str(base / "baseline"))
    )
    print(f"   {baseline.one_line(features=True)}")
    if baseline.status == "Failed":
        return EXIT_FAILED, capture, {}
    failed = False
    for h in range(1, 5):
        window = Window(start=DEMO_START + timedelta(hours=h), end=DEMO_START + timedelta(hours=h + 1))
        out = base / "monitoring" / window.start.strftime("%Y/%m/%d/%H")
        summary = run_analysis(
            spark,
            AnalyzeRequest(
                input=InputSpec(path=str(capture), window=window),
                baseline_statistics=baseline.artifacts["statistics"],
                baseline_constraints=baseline.artifacts["constraints"],
                output_dir=str(out),
            ),
        )
        label = "drift injected" if h == DRIFTED_HOUR else "clean"
        print(f"== window {window.label()} ({label})\n   {summary.one_line(features=True)}")
        if summary.records_quarantined.total:
            print(f"   quarantined: {summary.records_quarantined.by_reason} (samples in {out / 'quarantine'})")
        if summary.status == "CompletedWithViolations":
            violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
            for v in violations[:12]:
                print(f"   - {v['feature_name']}: {v['constraint_check_type']}: {v['description']}")
            if len(violations) > 12:
                print(f"   ... {len(violations) - 12} more in {out / 'constraint_violations.json'}")
        failed = failed or summary.status == "Failed"
    return (EXIT_FAILED if failed else EXIT_COMPLETED), capture, dict(baseline.artifacts)
