"""`monitor demo`: the data-quality monitor end to end on generated capture data.

Generates five hours of SageMaker-style endpoint capture (plus a few broken lines), builds a
baseline from the first hour, then analyzes each later hour as its own window: the clean
hours pass, the drifted hour is flagged. Then, where installed, the service demo (schedules
and REST) and the model-quality demo run on the same embedded defaults.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor_service.runner.summary import EXIT_COMPLETED, EXIT_FAILED
from monitor_service.specs import InputSpec, Window
from monitor_service.synthetic import CaptureShape, write_capture_hour

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


def run_demo(workdir: str, records_per_hour: int = 2000) -> int:
    from monitor_service.runner.analyze import run_analysis
    from monitor_service.runner.baseline import run_baseline
    from monitor_service.runner.requests import AnalyzeRequest, BaselineRequest
    from monitor_service.spark.session import get_session

    base = Path(workdir).resolve()
    print(f"== generating capture data in {base / 'capture'}")
    capture = generate(base, records_per_hour)
    spark = get_session()
    first = Window(start=DEMO_START, end=DEMO_START + timedelta(hours=1))
    print("== baseline from hour 0")
    baseline = run_baseline(
        spark, BaselineRequest(input=InputSpec(path=str(capture), window=first), output_dir=str(base / "baseline"))
    )
    print(f"   {baseline.one_line()}")
    if baseline.status == "Failed":
        return EXIT_FAILED
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
        print(f"== window {window.label()} ({label})\n   {summary.one_line()}")
        if summary.records_quarantined.total:
            print(f"   quarantined: {summary.records_quarantined.by_reason} (samples in {out / 'quarantine'})")
        if summary.status == "CompletedWithViolations":
            violations = json.loads((out / "constraint_violations.json").read_text())["violations"]
            for v in violations[:12]:
                print(f"   - {v['feature_name']}: {v['constraint_check_type']}: {v['description']}")
            if len(violations) > 12:
                print(f"   ... {len(violations) - 12} more in {out / 'constraint_violations.json'}")
        failed = failed or summary.status == "Failed"
    failed = _extra_demos(base, capture, baseline.artifacts, spark) or failed
    return EXIT_FAILED if failed else EXIT_COMPLETED


def _extra_demos(base: Path, capture: Path, baseline: dict[str, str], spark: object) -> bool:
    """The service and model-quality demos on the same data; True when one of them failed."""
    from monitor_service.demo_service import run_service_demo
    from monitor_service.runner.model_quality_demo import run_model_quality_demo

    print("== service demo: schedules, executions and violations over REST")
    run_service_demo(base / "service", str(capture), baseline_statistics=Path(baseline["statistics"]),
                     baseline_constraints=Path(baseline["constraints"]),
                     first_hour=DEMO_START + timedelta(hours=1), hours=4)
    print("== model-quality demo: late labels")
    return run_model_quality_demo(base / "model_quality", spark) == EXIT_FAILED
