"""The built-in frameworks through a real gateway process: answers equal the framework called directly.

Models are trained here on a small synthetic table and saved in each framework's own format; the
expected predictions come from scikit-learn, XGBoost, LightGBM and ONNX Runtime themselves.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest
import skops.io as sio
import xgboost as xgb
from gateway_harness import Client, GatewayProcess, gateway_block, write_config
from sklearn.linear_model import LogisticRegression

from monitor_service.errors import ModelError
from monitor_service.gateway.config import parse_config
from monitor_service.gateway.invokers import BuildContext, build_model


@pytest.fixture(scope="module")
def table() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(11)
    X = rng.normal(size=(300, 4))
    y = (1.5 * X[:, 0] - X[:, 1] + rng.normal(scale=0.4, size=300) > 0).astype(int)
    target = 2.0 * X[:, 0] + X[:, 3] ** 2
    return X, y, target


def _csv(rows: np.ndarray) -> str:
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows)


def _values(body: bytes) -> np.ndarray:
    return np.array([[float(v) for v in line.split(",")] for line in body.decode().splitlines()])


def test_sklearn_xgboost_lightgbm_onnx(tmp_path: Path, gateways: list[GatewayProcess], table) -> None:
    from skl2onnx import to_onnx

    X, y, target = table
    logreg = LogisticRegression().fit(X, y)
    sio.dump(logreg, tmp_path / "logreg.skops")
    with tarfile.open(tmp_path / "model.tar.gz", "w:gz") as archive:  # SageMaker's artifact form
        archive.add(tmp_path / "logreg.skops", arcname="model.skops")
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 3}, xgb.DMatrix(X, label=y), 20)
    booster.save_model(tmp_path / "xgb.json")
    regressor = lgb.train({"objective": "regression", "verbose": -1, "num_leaves": 8}, lgb.Dataset(X, target), 30)
    regressor.save_model(str(tmp_path / "lgb.txt"))
    (tmp_path / "logreg.onnx").write_bytes(to_onnx(logreg, X[:1].astype(np.float32),
                                                   options={"zipmap": False}).SerializeToString())
    models = [{"ModelName": "sk", "Framework": "sklearn", "ModelDataUrl": str(tmp_path / "logreg.skops")},
              {"ModelName": "sk-tar", "Framework": "sklearn", "ModelDataUrl": str(tmp_path / "model.tar.gz")},
              {"ModelName": "xgb", "Framework": "xgboost", "ModelDataUrl": str(tmp_path / "xgb.json")},
              {"ModelName": "lgb", "Framework": "lightgbm", "ModelDataUrl": str(tmp_path / "lgb.txt")},
              {"ModelName": "onnx", "Framework": "onnx", "ModelDataUrl": str(tmp_path / "logreg.onnx")}]
    endpoint = {"EndpointName": "zoo", "ProductionVariants": [{"VariantName": m["ModelName"],
                                                               "ModelName": m["ModelName"]} for m in models]}
    config = write_config(tmp_path, {"Models": models, "Endpoints": [endpoint], "Gateway": gateway_block(tmp_path)})
    gateway = GatewayProcess(tmp_path, config)
    gateways.append(gateway.start())
    client = Client(gateway.port)
    rows = X[:25]
    expected = {"sk": logreg.predict_proba(rows)[:, 1], "sk-tar": logreg.predict_proba(rows)[:, 1],
                "xgb": booster.predict(xgb.DMatrix(rows)), "lgb": regressor.predict(rows),
                "onnx": logreg.predict_proba(rows)[:, 1]}
    for variant, values in expected.items():
        answer = client.invoke("zoo", _csv(rows), target_variant=variant)
        assert answer.status == 200, answer.body
        tolerance = 1e-5 if variant in ("onnx", "xgb") else 1e-12  # float32 runtimes
        np.testing.assert_allclose(_values(answer.body)[:, 0], values, atol=tolerance)
        as_json = client.invoke("zoo", json.dumps({"instances": rows[:3].tolist()}), content_type="application/json",
                                target_variant=variant)
        np.testing.assert_allclose(as_json.json()["predictions"], values[:3], atol=tolerance)
    wrong = client.invoke("zoo", "1,2\n", target_variant="sk")
    assert wrong.status == 424 and wrong.json()["OriginalStatusCode"] == 400
    assert "expects 4 features per row, got 2" in wrong.json()["message"]
    client.close()


def test_pickle_needs_trusted(tmp_path: Path, table) -> None:
    import joblib

    X, y, _ = table
    joblib.dump(LogisticRegression().fit(X, y), tmp_path / "model.joblib")
    model = {"ModelName": "pickled", "Framework": "sklearn", "ModelDataUrl": str(tmp_path / "model.joblib")}
    context = BuildContext(cache_dir=tmp_path / "cache")
    with pytest.raises(ModelError, match=r"joblib/pickle file.*set Trusted: true on the model"):
        build_model(parse_config({"Models": [model]}).Models[0], context)
    trusted = build_model(parse_config({"Models": [{**model, "Trusted": True}]}).Models[0], context)
    from monitor_service.gateway.invokers import Invocation

    reply = trusted.call(Invocation(_csv(X[:2]).encode(), "text/csv"))
    assert len(reply.body.decode().splitlines()) == 2


def test_tarball_members_cannot_escape(tmp_path: Path) -> None:
    with tarfile.open(tmp_path / "evil.tar.gz", "w:gz") as archive:
        info = tarfile.TarInfo("../escaped.txt")
        info.size = 3
        archive.addfile(info, io.BytesIO(b"bad"))
    model = {"ModelName": "evil", "Framework": "sklearn", "ModelDataUrl": str(tmp_path / "evil.tar.gz")}
    with pytest.raises(ModelError, match="cannot extract"):
        build_model(parse_config({"Models": [model]}).Models[0], BuildContext(cache_dir=tmp_path / "cache"))
    assert not (tmp_path / "cache" / "escaped.txt").exists() and not (tmp_path / "escaped.txt").exists()
