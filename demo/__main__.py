"""`python -m demo [--workdir DIR]`: every demo in turn; exit code 1 if one of them failed."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from monitor_service.runner.summary import EXIT_COMPLETED, EXIT_FAILED


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="demo-output", help="folder for generated data and results")
    parser.add_argument("--records-per-hour", type=int, default=2000)
    args = parser.parse_args(argv)

    from demo.data_quality import DEMO_START, run_data_quality_demo
    from demo.gateway import run_gateway_demo
    from demo.model_bias import run_model_bias_demo
    from demo.model_explainability import run_model_explainability_demo
    from demo.model_quality import run_model_quality_demo
    from demo.service import run_service_demo
    from monitor_service.spark.session import get_session

    base = Path(args.workdir).resolve()
    spark = get_session()
    status, capture, baseline = run_data_quality_demo(base, spark, records_per_hour=args.records_per_hour)
    failed = status == EXIT_FAILED
    if baseline:
        print("== service demo: schedules, executions and violations over REST")
        run_service_demo(base / "service", str(capture), baseline_statistics=Path(baseline["statistics"]),
                         baseline_constraints=Path(baseline["constraints"]),
                         first_hour=DEMO_START + timedelta(hours=1), hours=4)
    print("== model-quality demo: late labels")
    failed = run_model_quality_demo(base / "model_quality", spark) == EXIT_FAILED or failed
    print("== bias-drift demo: a fair hour and an hour whose model favours one group")
    failed = run_model_bias_demo(base / "model_bias", spark) == EXIT_FAILED or failed
    print("== feature-attribution-drift demo: SHAP baseline, a window like it, a window that drifts")
    failed = run_model_explainability_demo(base / "model_explainability", spark) == EXIT_FAILED or failed
    print("== inference-gateway demo: two variants served with data capture, then monitored unchanged")
    failed = run_gateway_demo(base / "gateway", spark) == EXIT_FAILED or failed
    return EXIT_FAILED if failed else EXIT_COMPLETED


if __name__ == "__main__":
    sys.exit(main())
