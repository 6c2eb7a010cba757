"""Checks a CLI job makes before it starts Spark: a missing input fails in a second, not after a JVM start.

Starting a SparkSession takes seconds (82 s on a loaded machine, issue 7); a mistyped `--input`
should not cost that. Every input path of the job's request (the fields typed `InputPath`) is
looked at first; if one cannot be read the job ends Failed at once, with the same
`summary.json` and exit code 1 a failure inside the job would give.
"""

from __future__ import annotations

from pydantic import BaseModel

from monitor_service import io
from monitor_service.runner.common import exit_message
from monitor_service.runner.summary import RunSummary
from monitor_service.security.paths import input_paths
from monitor_service.spark.sources import missing_input


def preflight(command: str, monitor_type: str, request: BaseModel) -> RunSummary | None:
    """A Failed summary (also written to `{output}/summary.json`) when an input is missing; else None."""
    for _, path in input_paths(request):
        problem = missing_input(path)
        if problem is None:
            continue
        output = getattr(request, "output_dir", None)
        summary = RunSummary(job="baseline" if command == "baseline" else "analyze", monitor_type=monitor_type,
                             status="Failed", failure_reason=problem, input_path=path, output_path=output)
        summary.exit_message = exit_message(summary)
        if output:
            try:
                target = io.join(output, "summary.json")
                io.write_json_atomic(target, summary.model_dump(mode="json"))
                summary.artifacts["summary"] = target
            except OSError:
                pass
        return summary
    return None
