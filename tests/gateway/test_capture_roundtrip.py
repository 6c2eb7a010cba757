"""Capture written by the gateway process reads back through the existing Spark capture reader.

Expected records are rebuilt from what the test sent (the request text) and what the gateway
answered (the response text), with `str.split` only.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gateway_harness import Client, GatewayProcess, capture_config, gateway_block, script_model, write_config

from monitor_service.spark.reader import read_input
from monitor_service.specs import DatasetConfig, InputSpec, Window

pytestmark = pytest.mark.spark


def test_gateway_capture_round_trips_through_the_reader(spark: Any, tmp_path: Path,
                                                        gateways: list[GatewayProcess]) -> None:
    destination = tmp_path / "capture"
    endpoint = {"EndpointName": "rt", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "m"}],
                "DataCaptureConfig": capture_config(destination)}
    config = write_config(tmp_path, {"Models": [script_model("m")], "Endpoints": [endpoint],
                                     "Gateway": gateway_block(tmp_path)})
    gateway = GatewayProcess(tmp_path, config)
    gateways.append(gateway.start())
    client = Client(gateway.port)
    expected: dict[str, list[list[tuple[str, str]]]] = {}
    started = datetime.now(UTC)
    for i in range(30):
        rows = [f"{i},{k},0.5" for k in range(1 + i % 3)]  # 1-3 records per invocation
        answer = client.invoke("rt", "\n".join(rows) + "\n", inference_id=f"csv-{i}")
        assert answer.status == 200
        outputs = answer.body.decode().splitlines()
        expected[f"csv-{i}"] = [[("_c0", out)] + [(f"_c{j + 1}", v) for j, v in enumerate(row.split(","))]
                                for row, out in zip(rows, outputs, strict=True)]
    for i in range(10):
        instances = [[i, 1, 2], [3, 4, i]]
        answer = client.invoke("rt", json.dumps({"instances": instances}), content_type="application/json",
                               inference_id=f"json-{i}")
        predictions = answer.json()["predictions"]
        expected[f"json-{i}"] = [[("_c0", json.dumps(p))] + [(f"_c{j + 1}", json.dumps(v)) for j, v in enumerate(x)]
                                 for x, p in zip(instances, predictions, strict=True)]
    client.close()
    assert gateway.terminate() == 0
    window = Window(start=started - timedelta(hours=1), end=datetime.now(UTC) + timedelta(hours=1))
    result = read_input(spark, InputSpec(path=str(destination), dataset_config=DatasetConfig(), window=window), None)
    try:
        rows = result.df.collect()
    finally:
        result.release()
    assert result.quarantined == {}
    assert result.records_read == sum(len(v) for v in expected.values())
    got: dict[str, list[list[tuple[str, str]]]] = {}
    for row in sorted(rows, key=lambda r: (r["inference_id"], r["record_index"])):
        got.setdefault(row["inference_id"], []).append([(f["name"], f["value"]) for f in row["fields"]])
    assert got == expected
