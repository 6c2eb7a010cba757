"""Batch transform on Spark: `.out` files, quarantined records, inference ids, manifests, resuming,
and the data-quality monitor running on the output. Expected outputs are computed with plain Python.
"""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import script_model, write_config

from monitor_service.cli.main import main

pytestmark = pytest.mark.spark
WEIGHTS = (1.0, 2.0, 3.0)  # linear.py's default model


def _expected(row: str) -> str:
    return repr(sum(float(v) * w for v, w in zip(row.split(","), WEIGHTS, strict=True)))


def test_transform_writes_out_files_capture_and_resumes(spark: Any, tmp_path: Path) -> None:
    data = tmp_path / "input"
    (data / "day2").mkdir(parents=True)
    first = [f"{i},{i % 7},{i / 4}" for i in range(50)]
    second = ["1,1,1", "not,a,number", "2,2,2", "", "3,3,3"]
    (data / "part-1.csv").write_text("\n".join(first) + "\n")
    (data / "day2" / "part-2.csv").write_text("\n".join(second) + "\n")
    config = write_config(tmp_path, {"Models": [script_model("linear")]})
    out, capture = tmp_path / "output", tmp_path / "capture"
    args = ["transform", "--model-name", "linear", "--config", str(config), "--input", str(data),
            "--output", str(out), "--capture", str(capture), "--max-payload-mb", "0.0002"]  # ~200-byte batches
    assert main(args) == 0

    lines = (out / "part-1.csv.out").read_text().splitlines()
    assert [line.split(",")[0] for line in lines] == [_expected(r) for r in first]
    ids = [line.split(",")[1] for line in lines]
    assert ids == [str(uuid.uuid5(uuid.UUID("6f1c1d4e-8f0b-4a8e-9b7e-2f6f3c1a9d20"), f"part-1.csv:{n}"))
                   for n in range(1, 51)]
    times = {line.split(",")[2] for line in lines}
    assert len(times) == 1 and next(iter(times)).endswith("Z")
    # The bad record is quarantined with its line number; the others are scored.
    assert [line.split(",")[0] for line in (out / "day2" / "part-2.csv.out").read_text().splitlines()] == [
        _expected("1,1,1"), _expected("2,2,2"), _expected("3,3,3")]
    failed = [json.loads(x) for x in (out / "_quarantine" / "day2" / "_part-2.csv.failed.jsonl").read_text()
              .splitlines()]
    assert [f["line"] for f in failed] == [2] and "not a number" in failed[0]["error"]
    # SageMaker's manifests: the hour of the job's start, a prefix, then the files.
    manifests = {p.parts[-6]: json.loads(p.read_text()) for p in capture.rglob("*.json")}
    assert manifests["input"] == [{"prefix": f"{data}/"}, "day2/part-2.csv", "part-1.csv"]
    assert manifests["output"] == [{"prefix": f"{out}/"}, "day2/part-2.csv.out", "part-1.csv.out"]

    # Resumable: a rerun skips inputs whose output exists and rewrites nothing.
    before = (out / "part-1.csv.out").stat().st_mtime_ns
    (out / "day2" / "part-2.csv.out").unlink()
    assert main(args) == 0
    assert (out / "part-1.csv.out").stat().st_mtime_ns == before
    assert (out / "day2" / "part-2.csv.out").exists()

    # The data-quality monitor runs on the output unchanged.
    report = tmp_path / "baseline"
    assert main(["baseline", "--input", str(out), "--format", "csv", "--output", str(report)]) == 0
    statistics = json.loads((report / "statistics.json").read_text())
    assert statistics["dataset"]["item_count"] == 53
    score = next(f for f in statistics["features"] if f["name"] == "_c0")
    assert score["numerical_statistics"]["max"] == pytest.approx(max(float(_expected(r)) for r in first))


def test_transform_jsonlines_single_record(spark: Any, tmp_path: Path) -> None:
    data = tmp_path / "records.jsonl"
    rows = [[i, 1, 0] for i in range(7)]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = write_config(tmp_path, {"Models": [script_model("linear")]})
    out = tmp_path / "out"
    assert main(["transform", "--model-name", "linear", "--config", str(config), "--input", str(data),
                 "--output", str(out), "--content-type", "application/jsonlines", "--batch-strategy",
                 "SingleRecord", "--capture", str(tmp_path / "capture")]) == 0
    records = [json.loads(x) for x in (out / "records.jsonl.out").read_text().splitlines()]
    assert [r["SageMakerOutput"] for r in records] == [i * 1.0 + 2.0 for i in range(7)]
    assert all(set(r) == {"SageMakerOutput", "SageMakerInferenceId", "SageMakerInferenceTime"} for r in records)
    assert main(["transform", "--model-name", "nope", "--config", str(config), "--input", str(data),
                 "--output", str(out)]) == 2


def test_transform_broadcasts_a_sklearn_model(spark: Any, tmp_path: Path) -> None:
    import numpy as np
    import skops.io as sio
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    X = rng.normal(size=(120, 3))
    model = LogisticRegression().fit(X, (X[:, 0] > 0).astype(int))
    sio.dump(model, tmp_path / "model.skops")
    config = write_config(tmp_path, {"Models": [{"ModelName": "clf", "Framework": "sklearn",
                                                 "ModelDataUrl": str(tmp_path / "model.skops")}]})
    data = tmp_path / "in"
    data.mkdir()
    for part in range(3):  # three files: three tasks sharing one broadcast model
        rows = X[part * 40:(part + 1) * 40]
        (data / f"p{part}.csv").write_text("".join(",".join(repr(float(v)) for v in r) + "\n" for r in rows))
    assert main(["transform", "--model-name", "clf", "--config", str(config), "--input", str(data),
                 "--output", str(tmp_path / "out")]) == 0
    got = np.concatenate([[float(x) for x in (tmp_path / "out" / f"p{p}.csv.out").read_text().splitlines()]
                          for p in range(3)])
    np.testing.assert_allclose(got, model.predict_proba(X)[:, 1], atol=1e-12)


def test_transform_through_an_upstream_container(spark: Any, tmp_path: Path) -> None:
    import subprocess
    import sys

    from gateway_harness import ASSETS, free_port

    port = free_port()
    upstream = subprocess.Popen([sys.executable, str(ASSETS / "upstream.py"), str(port)], stdout=subprocess.PIPE)
    try:
        assert upstream.stdout is not None and upstream.stdout.readline().strip() == b"ready"
        config = write_config(tmp_path, {"Models": [{"ModelName": "byoc", "Framework": "container",
                                                     "Url": f"http://127.0.0.1:{port}"}]})
        (tmp_path / "in.csv").write_text("1,2\nbad\n3,4\n")
        assert main(["transform", "--model-name", "byoc", "--config", str(config), "--input",
                     str(tmp_path / "in.csv"), "--output", str(tmp_path / "out"), "--batch-strategy",
                     "SingleRecord"]) == 0
    finally:
        upstream.kill()
        upstream.wait(10)
    assert (tmp_path / "out" / "in.csv.out").read_text() == "3.0\n7.0\n"
    failed = json.loads((tmp_path / "out" / "_quarantine" / "_in.csv.failed.jsonl").read_text())
    assert failed["line"] == 2 and "400" in failed["error"]
