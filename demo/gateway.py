"""The inference gateway end to end: serve a model with two variants, send traffic, monitor the capture.

`python -m demo.gateway [--workdir DIR] [--requests N]`, or `run_gateway_demo(workdir, spark)`:

1. trains two versions of a small scikit-learn model (skops files) and builds a data-quality
   baseline from the training data (the model's score first, as SageMaker expects);
2. starts `monitor gateway` as its own process on a free loopback port, with endpoint `churn`
   whose variants `Blue` (v1, weight 0.7) and `Green` (v2, weight 0.3) capture 100 % of traffic;
3. sends N requests, the second half with a drifted feature, and stops the gateway with SIGTERM
   (the spool is flushed and uploaded before it exits);
4. runs the data-quality monitor, unchanged, on each variant's captured files.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from monitor_service.runner.summary import EXIT_COMPLETED, EXIT_FAILED

FEATURES = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _train(base: Path) -> tuple[np.ndarray, dict[str, Path]]:
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(42)
    X = rng.normal(size=(2000, FEATURES))
    y = (1.2 * X[:, 0] - X[:, 1] + 0.5 * X[:, 2] + rng.normal(scale=0.5, size=len(X)) > 0).astype(int)
    paths = {}
    for version, c in (("v1", 1.0), ("v2", 0.1)):
        paths[version] = base / "models" / f"churn-{version}.skops"
        paths[version].parent.mkdir(parents=True, exist_ok=True)
        sio.dump(LogisticRegression(C=c).fit(X, y), paths[version])
    return X, paths


def _baseline_csv(base: Path, X: np.ndarray, model_path: Path) -> Path:
    """Training rows as the capture reader sees an invocation: the score first, then the features."""
    import skops.io as sio

    model = sio.load(model_path, trusted=sio.get_untrusted_types(file=model_path))
    scores = model.predict_proba(X)[:, 1]
    path = base / "training" / "train.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(",".join(repr(float(v)) for v in (s, *row)) + "\n" for s, row in zip(scores, X,
                                                                                                  strict=True)))
    return path


def _config(base: Path, models: dict[str, Path]) -> Path:
    import yaml

    document = {
        "Models": [{"ModelName": f"churn-{v}", "Framework": "sklearn", "ModelDataUrl": str(p)} for v, p in
                   models.items()],
        "Endpoints": [{"EndpointName": "churn", "ProductionVariants": [
            {"VariantName": "Blue", "ModelName": "churn-v1", "InitialVariantWeight": 0.7},
            {"VariantName": "Green", "ModelName": "churn-v2", "InitialVariantWeight": 0.3}],
            "DataCaptureConfig": {"EnableCapture": True, "InitialSamplingPercentage": 100,
                                  "DestinationS3Uri": str(base / "capture"),
                                  "CaptureOptions": [{"CaptureMode": "Input"}, {"CaptureMode": "Output"}],
                                  "CaptureContentTypeHeader": {"CsvContentTypes": ["text/csv"]}}}],
        "Gateway": {"SpoolDirectory": str(base / "spool"), "ModelCacheDirectory": str(base / "model-cache")},
    }
    path = base / "gateway.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _start(config: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "monitor_service.cli.main", "gateway", "--config", str(config),
                                 "--port", str(port), "--log-level", "warning"], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the gateway exited: {log.read_text()}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/ping")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the gateway did not start within 60 s")


def _traffic(port: int, requests: int) -> dict[str, int]:
    rng = np.random.default_rng(7)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    counts: dict[str, int] = {}
    for i in range(requests):
        row = rng.normal(size=FEATURES)
        if i >= requests // 2:
            row[0] += 2.5  # the second half drifts
        conn.request("POST", "/endpoints/churn/invocations", body=",".join(repr(float(v)) for v in row) + "\n",
                     headers={"Content-Type": "text/csv", "X-Amzn-SageMaker-Inference-Id": f"demo-{i}"})
        answer = conn.getresponse()
        answer.read()
        variant = answer.getheader("X-Amzn-Invoked-Production-Variant") or f"HTTP {answer.status}"
        counts[variant] = counts.get(variant, 0) + 1
    conn.close()
    return counts


def run_gateway_demo(base: Path, spark: Any, requests: int = 1000) -> int:
    """Serve, capture and monitor; returns the worst exit code of the monitoring runs (3 = violations)."""
    from monitor_service.monitors.data_quality.analysis_job import run_analysis
    from monitor_service.monitors.data_quality.baseline_job import run_baseline
    from monitor_service.monitors.data_quality.requests import AnalyzeRequest, BaselineRequest
    from monitor_service.specs import InputSpec

    base.mkdir(parents=True, exist_ok=True)
    print(f"== gateway demo in {base}: training two model versions")
    X, models = _train(base)
    baseline = run_baseline(spark, BaselineRequest(input=InputSpec(path=str(_baseline_csv(base, X, models["v1"])),
                                                                   format="csv"), output_dir=str(base / "baseline")))
    print(f"   baseline from the training data: {baseline.one_line(features=True)}")
    if baseline.status == "Failed":
        return EXIT_FAILED
    port = _free_port()
    gateway = _start(_config(base, models), port, base / "gateway.log")
    print(f"== monitor gateway on http://127.0.0.1:{port}: endpoint churn, variants Blue (0.7) and Green (0.3)")
    try:
        counts = _traffic(port, requests)
    finally:
        gateway.send_signal(signal.SIGTERM)  # flush the spool and upload before exiting
        gateway.wait(60)
    print(f"   {requests} requests (the second half drifted): {json.dumps(counts)}; gateway stopped, capture uploaded")
    worst = EXIT_COMPLETED
    for variant in ("Blue", "Green"):
        capture = base / "capture" / "churn" / variant
        files = sorted(capture.rglob("*.jsonl"))
        summary = run_analysis(spark, AnalyzeRequest(
            input=InputSpec(path=str(capture)), baseline_statistics=baseline.artifacts["statistics"],
            baseline_constraints=baseline.artifacts["constraints"], output_dir=str(base / "monitoring" / variant)))
        print(f"== data-quality monitor on {variant}'s capture ({len(files)} files): {summary.one_line(features=True)}")
        violations = base / "monitoring" / variant / "constraint_violations.json"
        if violations.exists():
            for v in json.loads(violations.read_text())["violations"][:5]:
                print(f"   - {v['feature_name']}: {v['constraint_check_type']}: {v['description']}")
        worst = max(worst, summary.exit_code)
    return worst


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo.gateway", description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="demo-output/gateway")
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args(argv)
    from monitor_service.spark.session import get_session

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    return run_gateway_demo(Path(args.workdir).resolve(), get_session(), requests=args.requests)


if __name__ == "__main__":
    sys.exit(main())
