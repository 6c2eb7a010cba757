"""The gateway as a real process on a loopback port: routing, headers, errors, capture, sampling.

Expected shares are checked against the binomial distribution (scipy), never against the code's
own arithmetic: a test fails when a count is more than 4.5 standard deviations off (a false
alarm about once in 150,000 runs).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from gateway_harness import (
    ASSETS,
    Client,
    GatewayProcess,
    capture_config,
    capture_lines,
    gateway_block,
    script_model,
    wait_for,
    write_config,
)
from scipy import stats

from monitor_service import schemas


def _within_binomial(count: int, n: int, p: float, sigmas: float = 4.5) -> None:
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    assert abs(count - mean) <= sigmas * sd, f"{count} of {n}, expected {mean:.0f} +/- {sd:.1f}"
    assert stats.binomtest(count, n, p).pvalue > 1e-6


def _two_variants(tmp_path: Path, weights: tuple[float, float], capture: dict | None = None,
                  **gateway: object) -> Path:
    endpoint: dict = {"EndpointName": "churn", "ProductionVariants": [
        {"VariantName": "Blue", "ModelName": "model-a", "InitialVariantWeight": weights[0]},
        {"VariantName": "Green", "ModelName": "model-b", "InitialVariantWeight": weights[1]}]}
    if capture is not None:
        endpoint["DataCaptureConfig"] = capture
    return write_config(tmp_path, {"Models": [script_model("model-a"), script_model("model-b")],
                                   "Endpoints": [endpoint], "Gateway": gateway_block(tmp_path, **gateway)})


def test_weights_split_traffic_and_target_variant_wins(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    gateway = GatewayProcess(tmp_path, _two_variants(tmp_path, (3.0, 1.0)))
    gateways.append(gateway.start())
    client = Client(gateway.port)
    n = 2000
    counts = {"Blue": 0, "Green": 0}
    for _ in range(n):
        answer = client.invoke("churn", "1,2,3\n")
        assert answer.status == 200, answer.body
        assert answer.body == b"14.0\n"  # 1*1 + 2*2 + 3*3
        counts[answer.headers["x-amzn-invoked-production-variant"]] += 1
    _within_binomial(counts["Blue"], n, 0.75)
    # The header wins whatever the weights, and both the response header and the metrics say so.
    for _ in range(50):
        assert client.invoke("churn", "1,2,3\n", target_variant="Green").headers[
            "x-amzn-invoked-production-variant"] == "Green"
    metrics = client.metrics()
    assert metrics['Invocations_total{EndpointName="churn",VariantName="Green"}'] == counts["Green"] + 50
    assert metrics['Invocations_total{EndpointName="churn",VariantName="Blue"}'] == counts["Blue"]
    assert metrics['ModelLatency_count{EndpointName="churn",VariantName="Blue"}'] == counts["Blue"]
    client.close()


def test_errors_are_sagemakers(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    gateway = GatewayProcess(tmp_path, _two_variants(tmp_path, (1.0, 0.0), MaxPayloadMB=0.001))
    gateways.append(gateway.start())
    client = Client(gateway.port)
    unknown = client.invoke("nope", "1,2,3\n")
    assert (unknown.status, unknown.headers["x-amzn-errortype"]) == (400, "ValidationError")
    assert "Endpoint nope not found" in unknown.json()["message"]
    variant = client.invoke("churn", "1,2,3\n", target_variant="Red")
    assert variant.status == 400 and "no production variant 'Red'" in variant.json()["message"]
    bad = client.invoke("churn", "1,2\n4,5,6\n")
    assert (bad.status, bad.json()["__type"], bad.json()["OriginalStatusCode"]) == (424, "ModelError", 400)
    assert "CSV line 2 has 3 values; line 1 has 2" in bad.json()["message"]
    unsupported = client.invoke("churn", "x", content_type="image/png")
    assert unsupported.status == 424 and unsupported.json()["OriginalStatusCode"] == 415
    too_big = client.invoke("churn", "1,2,3\n" * 400)
    assert too_big.status == 413 and "Gateway.MaxPayloadMB" in too_big.json()["message"]
    long_id = client.invoke("churn", "1,2,3\n", inference_id="x" * 65)
    assert long_id.status == 400 and "Inference-Id" in long_id.json()["message"]
    # Weight 0 gets no traffic; it is still reachable by name.
    assert {client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] for _ in range(50)} == {
        "Blue"}
    metrics = client.metrics()
    assert metrics['Invocation4XXErrors_total{EndpointName="churn",VariantName="Blue"}'] == 2
    json_answer = client.invoke("churn", json.dumps({"instances": [[1, 1, 1], [0, 0, 1]]}),
                                content_type="application/json", accept="text/csv")
    assert (json_answer.status, json_answer.body, json_answer.headers["content-type"]) == (200, b"6.0\n3.0\n",
                                                                                          "text/csv")
    client.close()


def test_capture_lines_validate_and_carry_every_field(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    destination = tmp_path / "capture"
    gateway = GatewayProcess(tmp_path, _two_variants(tmp_path, (1.0, 1.0), capture_config(destination)))
    gateways.append(gateway.start())
    client = Client(gateway.port)
    sent = {}
    for i in range(40):
        body = f"{i},1,0\n"
        answer = client.invoke("churn", body, inference_id=f"req-{i}", custom_attributes=f"trace={i}")
        assert answer.status == 200
        sent[f"req-{i}"] = (body, answer.body.decode(), answer.headers["x-amzn-invoked-production-variant"])
    png = client.invoke("churn", b"\x89PNG\r\n", content_type="application/x-image", inference_id="binary")
    assert png.status == 424  # not captured: the model refused it
    client.close()
    assert gateway.terminate() == 0  # SIGTERM flushes and uploads
    lines = capture_lines(destination)
    assert len(lines) == 40
    for line in lines:
        schemas.validate("capture_record", line)
        meta = line["eventMetadata"]
        body, output, variant = sent[meta["inferenceId"]]
        assert line["captureData"]["endpointInput"] == {"observedContentType": "text/csv", "mode": "INPUT",
                                                        "data": body, "encoding": "CSV"}
        assert line["captureData"]["endpointOutput"] == {"observedContentType": "text/csv", "mode": "OUTPUT",
                                                         "data": output, "encoding": "CSV"}
        assert meta["customAttributes"] == [f"trace={meta['inferenceId'][4:]}"]
        assert line["eventVersion"] == "0"
    by_variant = {p.parts[-6] for p in destination.rglob("*.jsonl")}
    assert by_variant <= {"Blue", "Green"}
    for path in destination.rglob("*.jsonl"):
        relative = path.relative_to(destination).parts
        assert relative[0] == "churn" and len(relative) == 7  # churn/Variant/yyyy/mm/dd/hh/file
        variant = relative[1]
        assert all(sent[json.loads(x)["eventMetadata"]["inferenceId"]][2] == variant
                   for x in path.read_text().splitlines())


def test_sampling_ten_percent_by_inference_id(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    destination = tmp_path / "capture"
    gateway = GatewayProcess(tmp_path, _two_variants(tmp_path, (1.0, 0.0), capture_config(destination, 10)))
    gateways.append(gateway.start())
    client = Client(gateway.port)
    n = 3000
    for i in range(n):
        assert client.invoke("churn", "1,2,3\n", inference_id=f"id-{i}").status == 200
    # Retries of the first 300 ids: each is captured again exactly when it was the first time.
    for i in range(300):
        assert client.invoke("churn", "1,2,3\n", inference_id=f"id-{i}").status == 200
    metrics = client.metrics()
    client.close()
    assert gateway.terminate() == 0
    ids = [line["eventMetadata"]["inferenceId"] for line in capture_lines(destination)]
    first = {int(x[3:]) for x in ids}
    _within_binomial(len(first), n, 0.10)
    for i in range(300):
        assert ids.count(f"id-{i}") in ((2,) if i in first else (0,))
    assert metrics['monitor_gateway_capture_captured_total{EndpointName="churn",VariantName="Blue"}'] == len(ids)
    assert metrics['monitor_gateway_capture_sampled_out_total{EndpointName="churn",VariantName="Blue"}'] == (
        n + 300 - len(ids))


@pytest.mark.parametrize("policy", ["reject", "drop"])
def test_full_spool_rejects_or_counts_drops(tmp_path: Path, gateways: list[GatewayProcess], policy: str) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("uploads fail: the destination's parent is a file")
    gateway = GatewayProcess(tmp_path, _two_variants(tmp_path, (1.0, 0.0), capture_config(blocker / "capture"),
                                                     SpoolMaxBytes=4096, WhenSpoolFull=policy))
    gateways.append(gateway.start())
    client = Client(gateway.port)
    answers = [(f"r{i}", client.invoke("churn", "1,2,3\n", inference_id=f"r{i}")) for i in range(60)]
    metrics = client.metrics()
    wait_for(lambda: client.metrics()["monitor_gateway_capture_upload_failures_total"] >= 1, what="an upload try")
    wait_for(lambda: client.metrics()["monitor_gateway_capture_upload_lag_seconds"] > 0, what="the upload lag")
    client.close()
    ok = [i for i, a in answers if a.status == 200 and "x-monitor-capture" not in a.headers]
    refused = [i for i, a in answers if a.status == 429]
    dropped = [i for i, a in answers if a.status == 200 and "x-monitor-capture" in a.headers]
    assert len(ok) + len(refused) + len(dropped) == 60
    assert 5 < len(ok) < 60  # ~350-byte lines in a 4 KiB budget
    labels = '{EndpointName="churn",VariantName="Blue"}'
    if policy == "reject":
        assert not dropped and refused
        assert all(a.headers["x-amzn-errortype"] == "ThrottlingException" and "spool is full" in a.json()["message"]
                   for _, a in answers if a.status == 429)
        assert metrics[f"monitor_gateway_capture_rejected_total{labels}"] == len(refused)
    else:
        assert not refused and dropped
        key = 'monitor_gateway_capture_dropped_total{EndpointName="churn",VariantName="Blue",reason="spool_full"}'
        assert metrics[key] == len(dropped)
    assert metrics[f"monitor_gateway_capture_captured_total{labels}"] == len(ok)
    # Every acknowledged line is in the spool, waiting for the destination to come back.
    gateway.kill()
    spooled = [json.loads(line)["eventMetadata"]["inferenceId"]
               for path in (tmp_path / "spool").rglob("*.jsonl*") for line in path.read_text().splitlines()]
    assert sorted(spooled) == sorted(ok)


def test_multi_model_cache_evicts_least_recently_used(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    import tarfile

    prefix = tmp_path / "models-prefix"
    prefix.mkdir()
    for name, weights in (("m1", "1,0,0"), ("m2", "0,1,0"), ("m3", "0,0,1")):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "weights.txt").write_text(weights)
        (folder / "padding.bin").write_bytes(b"\0" * 10_000)
        with tarfile.open(prefix / f"{name}.tar.gz", "w:gz") as archive:
            for item in folder.iterdir():
                archive.add(item, arcname=item.name)
    model = script_model("many", Mode="MultiModel", ModelDataUrl=str(prefix))
    config = write_config(tmp_path, {"Models": [model], "Endpoints": [{"EndpointName": "mme", "ProductionVariants": [
        {"VariantName": "AllTraffic", "ModelName": "many"}]}],
        "Gateway": gateway_block(tmp_path, MultiModelCacheBytes=25_000)})
    gateway = GatewayProcess(tmp_path, config)
    gateways.append(gateway.start())
    client = Client(gateway.port)

    def call(target: str) -> bytes:
        answer = client.invoke("mme", "10,20,30\n", target_model=target)
        assert answer.status == 200, answer.body
        return answer.body

    assert [call(t) for t in ("m1.tar.gz", "m2.tar.gz", "m1.tar.gz")] == [b"10.0\n", b"20.0\n", b"10.0\n"]
    assert call("m3.tar.gz") == b"30.0\n"  # evicts m2, the least recently used
    assert call("m1.tar.gz") == b"10.0\n"  # still loaded: a hit
    assert call("m2.tar.gz") == b"20.0\n"  # loaded again: a miss, evicting m3
    labels = '{EndpointName="mme",VariantName="AllTraffic"}'
    metrics = client.metrics()
    assert metrics[f"ModelCacheMiss_total{labels}"] == 4
    assert metrics[f"ModelCacheHit_total{labels}"] == 2
    assert metrics[f"ModelCacheEviction_total{labels}"] == 2
    assert metrics[f"LoadedModelCount{labels}"] == 2
    missing = client.invoke("mme", "1,2,3\n", target_model="m9.tar.gz")
    assert missing.status == 424 and "m9.tar.gz" in missing.json()["message"]
    no_target = client.invoke("mme", "1,2,3\n")
    assert no_target.status == 424 and "X-Amzn-SageMaker-Target-Model" in no_target.json()["message"]
    escape = client.invoke("mme", "1,2,3\n", target_model="../m1.tar.gz")
    assert escape.status == 424 and "relative path" in escape.json()["message"]
    client.close()


def test_serial_pipeline_runs_containers_in_order(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    stages = []
    for name in ("preprocess", "model", "postprocess"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "stage.txt").write_text(name)
        stages.append({"Framework": "script", "EntryPoint": str(ASSETS / "stage.py"), "ModelDataUrl": str(folder)})
    pipeline = {"ModelName": "pipe", "Containers": stages, "InferenceExecutionConfig": {"Mode": "Serial"}}
    endpoint = {"EndpointName": "pipe", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "pipe"}]}
    config = write_config(tmp_path, {"Models": [pipeline], "Endpoints": [endpoint], "Gateway": gateway_block(tmp_path)})
    gateway = GatewayProcess(tmp_path, config)
    gateways.append(gateway.start())
    client = Client(gateway.port)
    answer = client.invoke("pipe", "1,2\n3,4\n")
    assert answer.status == 200
    assert answer.json() == {"rows": [["1", "2"], ["3", "4"]], "trace": ["preprocess", "model", "postprocess"]}
    client.close()


def test_container_framework_proxies_an_upstream(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    import subprocess
    import sys

    from gateway_harness import free_port

    port = free_port()
    upstream = subprocess.Popen([sys.executable, str(ASSETS / "upstream.py"), str(port)], stdout=subprocess.PIPE)
    try:
        assert upstream.stdout is not None and upstream.stdout.readline().strip() == b"ready"
        destination = tmp_path / "capture"
        model = {"ModelName": "byoc", "Framework": "container", "Url": f"http://127.0.0.1:{port}"}
        config = write_config(tmp_path, {"Models": [model], "Endpoints": [{
            "EndpointName": "byoc", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "byoc"}],
            "DataCaptureConfig": capture_config(destination)}], "Gateway": gateway_block(tmp_path)})
        gateway = GatewayProcess(tmp_path, config)
        gateways.append(gateway.start())
        client = Client(gateway.port)
        assert client.invoke("byoc", "1,2,3\n4,5,6\n").body == b"6.0\n15.0\n"
        failed = client.invoke("byoc", "fail\n")
        assert failed.status == 424 and failed.json()["OriginalStatusCode"] == 500
        assert "the model crashed" in failed.json()["message"]
        refused = client.invoke("byoc", "bad\n")
        assert refused.status == 424 and refused.json()["OriginalStatusCode"] == 400
        metrics = client.metrics()
        assert metrics['Invocation5XXErrors_total{EndpointName="byoc",VariantName="AllTraffic"}'] == 1
        assert metrics['Invocation4XXErrors_total{EndpointName="byoc",VariantName="AllTraffic"}'] == 1
        client.close()
    finally:
        upstream.kill()
        upstream.wait(10)
    # The upstream is gone: the gateway answers a clear 5xx model error and keeps running.
    client = Client(gateway.port)
    gone = client.invoke("byoc", "1,2,3\n")
    assert gone.status == 424 and gone.json()["OriginalStatusCode"] == 502
    assert client.request("GET", "/ping").status == 200
    client.close()
    assert gateway.terminate() == 0
    assert len(capture_lines(destination)) == 1


def test_config_file_changes_apply_whole(tmp_path: Path, gateways: list[GatewayProcess]) -> None:
    config = _two_variants(tmp_path, (1.0, 0.0))
    gateway = GatewayProcess(tmp_path, config)
    gateways.append(gateway.start())
    client = Client(gateway.port)
    assert client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] == "Blue"
    _two_variants(tmp_path, (0.0, 1.0))
    wait_for(lambda: client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] == "Green",
             what="the new weights")
    assert all(client.invoke("churn", "1,2,3\n").headers["x-amzn-invoked-production-variant"] == "Green"
               for _ in range(30))
    config.write_text("Models: [oops")  # a broken file: the previous configuration stays
    wait_for(lambda: client.metrics().get("monitor_gateway_config_errors_total", 0) >= 1, what="the config error")
    assert client.invoke("churn", "1,2,3\n").status == 200
    client.close()
