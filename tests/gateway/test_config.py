"""The gateway configuration: SageMaker's keys, validated once, errors that name the key."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor_service.errors import ConfigError
from monitor_service.gateway.config import load_config, parse_config

MODEL = {"ModelName": "churn-v1", "Framework": "sklearn", "ModelDataUrl": "model.skops"}
ENDPOINT = {"EndpointName": "churn", "ProductionVariants": [{"VariantName": "AllTraffic", "ModelName": "churn-v1"}]}


def _error(document: dict) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(document)
    return str(caught.value)


def test_yaml_and_json_give_the_same_config(tmp_path: Path) -> None:
    document = {"Models": [MODEL], "Endpoints": [{**ENDPOINT, "DataCaptureConfig": {
        "InitialSamplingPercentage": 20, "DestinationS3Uri": "capture", "CaptureOptions": [{"CaptureMode": "Input"}]}}]}
    (tmp_path / "a.json").write_text(json.dumps(document))
    import yaml

    (tmp_path / "a.yaml").write_text(yaml.safe_dump(document))
    from_json, from_yaml = load_config(tmp_path / "a.json"), load_config(tmp_path / "a.yaml")
    assert from_json == from_yaml
    # Relative paths are relative to the file; the defaults stay relative to the working folder.
    assert from_json.Models[0].ModelDataUrl == str(tmp_path / "model.skops")
    assert from_json.Endpoints[0].DataCaptureConfig.DestinationS3Uri == str(tmp_path / "capture")
    assert from_json.Gateway.SpoolDirectory == "monitor-data/gateway-spool"
    variant = from_json.Endpoints[0].ProductionVariants[0]
    assert (variant.InitialVariantWeight, variant.InitialInstanceCount) == (1.0, 1)


@pytest.mark.parametrize(("change", "message"), [
    ({"Endpoints": [{**ENDPOINT, "ProductionVariants": [{"VariantName": "A", "ModelName": "churn-v9"}]}]},
     "Endpoints[0].ProductionVariants[0].ModelName: 'churn-v9' is not a model (Models are: churn-v1)"),
    ({"Models": [{**MODEL, "Framework": "pytorch"}]}, "Models[0].Framework"),
    ({"Models": [{"ModelName": "x", "Framework": "container"}]}, "the container framework needs Url"),
    ({"Models": [{"ModelName": "x", "Framework": "script"}]}, "the script framework needs EntryPoint"),
    ({"Models": [{"ModelName": "bad_name!", "Framework": "script", "EntryPoint": "a.py"}]},
     "Models[0].ModelName: 'bad_name!' is not a valid name"),
    ({"Endpoints": [{**ENDPOINT, "ProductionVariants": [
        {"VariantName": "A", "ModelName": "churn-v1"}, {"VariantName": "A", "ModelName": "churn-v1"}]}]},
     "duplicate VariantName ['A']"),
    ({"Endpoints": [{**ENDPOINT, "ProductionVariants": [
        {"VariantName": "A", "ModelName": "churn-v1", "InitialVariantWeight": 0}]}]}, "add up to 0"),
    ({"Endpoints": [{**ENDPOINT, "DataCaptureConfig": {"InitialSamplingPercentage": 101, "DestinationS3Uri": "x",
                                                       "CaptureOptions": [{"CaptureMode": "Input"}]}}]},
     "Endpoints[0].DataCaptureConfig.InitialSamplingPercentage"),
    ({"Endpoints": [{**ENDPOINT, "DataCaptureConfig": {"InitialSamplingPercentage": 1, "DestinationS3Uri": "x",
                                                       "CaptureOptions": [{"CaptureMode": "Both"}]}}]},
     "Endpoints[0].DataCaptureConfig.CaptureOptions[0].CaptureMode"),
    ({"Gateway": {"FsyncPolicy": "sometimes"}}, "Gateway.FsyncPolicy"),
    ({"Endpoint": []}, "Endpoint: Extra inputs are not permitted"),
])
def test_errors_name_the_key(change: dict, message: str) -> None:
    assert message in _error({"Models": [MODEL], "Endpoints": [ENDPOINT], **change})


def test_pipeline_and_inline_forms_are_exclusive() -> None:
    both = {"ModelName": "p", "Framework": "script", "Containers": [{"Framework": "script", "EntryPoint": "a.py"}]}
    assert "either Containers" in _error({"Models": [both]})
    pipeline = parse_config({"Models": [{"ModelName": "p", "Containers": [
        {"Framework": "script", "EntryPoint": "a.py"}, {"Framework": "container", "Url": "http://127.0.0.1:1"}]}]})
    assert [c.Framework for c in pipeline.Models[0].containers()] == ["script", "container"]


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read gateway config"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.json").write_text('{"Models": [')
    with pytest.raises(ConfigError, match="not valid JSON"):
        load_config(tmp_path / "bad.json")
