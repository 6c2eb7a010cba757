"""A long fuzz run of every input reader: inputs tried, values, documented errors, crashes.

The targets are the ones of the property tests (`tests/fuzz_targets.py`), run with many more
examples: statistics / constraints / model-quality / ground-truth documents (mutations of real
SageMaker files), HLL and KLL sketch bytes, schedule expressions and offsets, capture lines (the
pure-Python envelope rules) and every API request body. A *crash* is any exception that is not
one of the target's documented errors; HLL images that pass validation are decoded natively in a
child process, where a crash is the child dying.

    .venv/bin/python bench/fuzz_inputs.py --examples 5000 [--record]   # --record rewrites BENCHMARKS.md's section
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests.fuzz_targets import (  # noqa: E402
    Target,
    capture_targets,
    decode_in_child,
    reader_targets,
    request_targets,
    schedule_targets,
)

SECTION = "## Fuzzing the input readers"


def run(target: Target, examples: int) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    crashes: list[str] = []
    accepted: list[bytes] = []

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.generate])
    @given(target.inputs)
    def one(value: Any) -> None:
        counts["tried"] += 1
        try:
            result = target.read(value)
        except target.allowed:
            counts["refused"] += 1
        except Exception as exc:  # a crash: recorded, the run goes on
            counts["crashes"] += 1
            crashes.append(f"{type(exc).__name__}: {str(exc)[:200]}")
        else:
            if isinstance(result, str):  # a capture line's quarantine reason: refused, in words
                counts["refused"] += 1
            else:
                counts["accepted"] += 1
            if isinstance(result, bytes):
                accepted.append(result)

    started = time.perf_counter()
    one()
    if accepted:  # HLL images that passed validation: decode them natively, in a child
        child = decode_in_child(accepted, timeout=600)
        if child.returncode != 0:
            counts["crashes"] += 1
            crashes.append(f"native decoder exited {child.returncode}: {child.stderr[-300:]}")
        counts["decoded natively"] = len(accepted)
    return {"name": target.name, "seconds": time.perf_counter() - started, **counts,
            "first_crashes": sorted(set(crashes))[:3]}


def table(results: list[dict[str, Any]]) -> str:
    rows = ["| target | inputs tried | accepted | refused (documented error) | crashes | seconds |",
            "|---|---:|---:|---:|---:|---:|"]
    for r in results:
        native = f" ({r['decoded natively']} decoded natively)" if r.get("decoded natively") else ""
        rows.append(f"| {r['name']} | {r['tried']:,} | {r.get('accepted', 0):,}{native} | {r.get('refused', 0):,} | "
                    f"{r.get('crashes', 0)} | {r['seconds']:.1f} |")
    total = sum(r["tried"] for r in results)
    crashes = sum(r.get("crashes", 0) for r in results)
    rows.append(f"| **all {len(results)} targets** | **{total:,}** | | | **{crashes}** | "
                f"{sum(r['seconds'] for r in results):.0f} |")
    return "\n".join(rows)


def record(text: str) -> None:
    path = REPO / "BENCHMARKS.md"
    content = path.read_text(encoding="utf-8")
    if SECTION in content:
        head, _, rest = content.partition(SECTION)
        tail = rest[rest.find("\n## "):] if "\n## " in rest else ""
        content = head + text + tail
    else:
        content = content.rstrip("\n") + "\n\n" + text
    path.write_text(content if content.endswith("\n") else content + "\n", encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=5000, help="inputs per target")
    parser.add_argument("--record", action="store_true", help="write the figures into BENCHMARKS.md")
    args = parser.parse_args()
    targets = [*reader_targets(), *schedule_targets(), *capture_targets(), *request_targets()]
    results = []
    for target in targets:
        result = run(target, args.examples)
        results.append(result)
        print(f"{result['name']:<60} {result['tried']:>7} tried {result.get('crashes', 0):>3} crashes "
              f"{result['seconds']:6.1f}s {result['first_crashes'] or ''}", flush=True)
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    text = (f"{SECTION}\n\nWritten by `bench/fuzz_inputs.py --examples {args.examples} --record` ({when}, "
            f"{platform.python_implementation()} {platform.python_version()}, hypothesis generation only, no "
            "shrinking). Each target's inputs are mutations of valid inputs (real SageMaker files, fixture capture "
            "lines, valid sketches and request bodies) or random text and bytes; a crash is any exception other "
            "than the target's documented errors, or the native HLL decoder dying in its child process (capture "
            "lines are refused with a quarantine reason, not an exception). The "
            "suite runs the same targets with 60-400 examples each (`tests/unit/test_reader_fuzz.py`, "
            "`tests/service/test_request_models.py`, `tests/service/test_expressions.py`, "
            "`tests/spark/test_capture_line_spec.py`).\n\n" + table(results) + "\n")
    print("\n" + text)
    if args.record:
        record(text)
    return 1 if any(r.get("crashes") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
