"""Every framework's model file through the port: predictions equal the framework called directly."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pytest
import skops.io as sio
from sklearn.ensemble import GradientBoostingRegressor, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from monitor_service.errors import ConfigError, ModelError
from monitor_service.predictor import load_model, load_source, read_source


def test_sklearn_skops_classifier(tabular, model_dir: Path) -> None:
    X, y, _, _ = tabular
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)
    path = model_dir / "logreg.skops"
    sio.dump(model, path)
    loaded = load_model(str(path), "sklearn")
    assert loaded.is_classifier and loaded.framework == "sklearn"
    assert loaded.feature_names == list(X.columns)
    assert loaded.output_names == ["0", "1"]
    np.testing.assert_allclose(loaded.predict(X), model.predict_proba(X), rtol=0, atol=1e-12)
    # a numpy array is taken in the model's feature order; a DataFrame is reordered by name
    np.testing.assert_allclose(loaded.predict(X.to_numpy()), model.predict_proba(X), atol=1e-12)
    np.testing.assert_allclose(loaded.predict(X[X.columns[::-1]]), model.predict_proba(X), atol=1e-12)
    assert list(loaded.predict_labels(X)) == [str(v) for v in model.predict(X)]
    assert loaded.explained_outputs() == [1]
    assert loaded.native.__class__.__name__ == "Pipeline"


def test_sklearn_multiclass_and_regressor(tabular, model_dir: Path) -> None:
    X, _, three, target = tabular
    forest = RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0).fit(X.to_numpy(), three)
    sio.dump(forest, model_dir / "forest.skops")
    loaded = load_model(str(model_dir / "forest.skops"), "sklearn")
    assert loaded.feature_names is None and loaded.n_features == 4
    assert loaded.output_names == ["0", "1", "2"] and loaded.explained_outputs() == [0, 1, 2]
    np.testing.assert_allclose(loaded.predict(X.to_numpy()), forest.predict_proba(X.to_numpy()), atol=1e-12)
    regressor = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, target)
    sio.dump(regressor, model_dir / "gbr.skops")
    reg = load_model(str(model_dir / "gbr.skops"), "sklearn")
    assert not reg.is_classifier and reg.output_names == ["prediction"]
    out = reg.predict(X)
    assert out.shape == (len(X), 1)
    np.testing.assert_allclose(out[:, 0], regressor.predict(X), atol=1e-12)
    np.testing.assert_allclose(reg.predict_labels(X), regressor.predict(X), atol=1e-12)


def test_joblib_needs_trust(tabular, model_dir: Path) -> None:
    X, y, _, _ = tabular
    model = LogisticRegression().fit(X, y)
    path = model_dir / "logreg.joblib"
    joblib.dump(model, path)
    with pytest.raises(ModelError, match=r"joblib/pickle file; loading one runs code.*trusted"):
        load_model(str(path), "sklearn")
    loaded = load_model(str(path), "sklearn", trusted=True)
    np.testing.assert_allclose(loaded.predict(X), model.predict_proba(X), atol=1e-12)


def test_skops_untrusted_type_is_named(tabular, model_dir: Path) -> None:
    import lightgbm as lgb

    X, y, _, _ = tabular
    model = lgb.LGBMClassifier(n_estimators=5, verbose=-1).fit(X, y)
    path = model_dir / "lgbm.skops"
    sio.dump(model, path)
    with pytest.raises(ModelError, match=r"types skops does not trust by default: .*lightgbm"):
        load_model(str(path), "sklearn")
    loaded = load_model(str(path), "sklearn", trusted=True)
    np.testing.assert_allclose(loaded.predict(X), model.predict_proba(X), atol=1e-12)


@pytest.mark.parametrize("suffix", ["json", "ubj"])
def test_xgboost_binary_multiclass_regression(tabular, model_dir: Path, suffix: str) -> None:
    import xgboost as xgb

    X, y, three, target = tabular
    cases = [
        ("binary", xgb.XGBClassifier(n_estimators=15, max_depth=3), y),
        ("multi", xgb.XGBClassifier(n_estimators=10, max_depth=3), three),
        ("reg", xgb.XGBRegressor(n_estimators=15, max_depth=3), target),
    ]
    for kind, estimator, labels in cases:
        estimator.fit(X, labels)
        path = model_dir / f"xgb_{kind}.{suffix}"
        estimator.save_model(path)
        loaded = load_model(str(path), "xgboost")
        assert loaded.feature_names == list(X.columns)
        expected = estimator.predict_proba(X) if kind != "reg" else estimator.predict(X).reshape(-1, 1)
        np.testing.assert_allclose(loaded.predict(X), expected, rtol=1e-6, atol=1e-7)
        assert loaded.is_classifier == (kind != "reg")
        assert loaded.native.__class__.__name__ == "Booster"
    assert loaded.explained_outputs() == [0]


def test_xgboost_softmax_returns_probabilities(tabular, model_dir: Path) -> None:
    import xgboost as xgb

    X, _, three, _ = tabular
    booster = xgb.train({"objective": "multi:softmax", "num_class": 3, "max_depth": 2}, xgb.DMatrix(X, three), 5)
    booster.save_model(model_dir / "softmax.json")
    loaded = load_model(str(model_dir / "softmax.json"), "xgboost")
    margins = booster.predict(xgb.DMatrix(X), output_margin=True)
    expected = np.exp(margins) / np.exp(margins).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(loaded.predict(X), expected, rtol=1e-6)
    np.testing.assert_array_equal(loaded.predict_labels(X).astype(int), booster.predict(xgb.DMatrix(X)).astype(int))


def test_lightgbm_text_models(tabular, model_dir: Path) -> None:
    import lightgbm as lgb

    X, y, three, target = tabular
    for kind, estimator, labels in [
        ("binary", lgb.LGBMClassifier(n_estimators=15, verbose=-1), y),
        ("multi", lgb.LGBMClassifier(n_estimators=10, verbose=-1), three),
        ("reg", lgb.LGBMRegressor(n_estimators=15, verbose=-1), target),
    ]:
        estimator.fit(X, labels)
        path = model_dir / f"lgb_{kind}.txt"
        estimator.booster_.save_model(str(path))
        loaded = load_model(str(path), "lightgbm")
        assert loaded.feature_names == list(X.columns)
        expected = estimator.predict_proba(X) if kind != "reg" else estimator.predict(X).reshape(-1, 1)
        np.testing.assert_allclose(loaded.predict(X), expected, rtol=1e-9, atol=1e-12)
        assert loaded.output_names == (["0", "1", "2"] if kind == "multi" else ["0", "1"] if kind == "binary"
                                       else ["prediction"])
    unnamed = lgb.LGBMRegressor(n_estimators=5, verbose=-1).fit(X.to_numpy(), target)
    unnamed.booster_.save_model(str(model_dir / "lgb_unnamed.txt"))
    assert load_model(str(model_dir / "lgb_unnamed.txt"), "lightgbm").feature_names is None


def test_onnx_classifier_and_regressor(tabular, model_dir: Path) -> None:
    import onnxruntime as ort
    from skl2onnx import to_onnx
    from sklearn.linear_model import LinearRegression

    X, _, three, target = tabular
    data = X.to_numpy().astype(np.float32)
    for zipmap in (True, False):
        clf = LogisticRegression(max_iter=500).fit(data, three)
        onx = to_onnx(clf, data[:1], options={id(clf): {"zipmap": zipmap}}, target_opset=17)
        path = model_dir / f"logreg_{zipmap}.onnx"
        path.write_bytes(onx.SerializeToString())
        loaded = load_model(str(path), "onnx")
        assert loaded.is_classifier
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        label, proba = session.run(None, {session.get_inputs()[0].name: data})
        direct = np.asarray([[row[k] for k in sorted(row)] for row in proba]) if zipmap else proba
        np.testing.assert_allclose(loaded.predict(X), direct, rtol=1e-6)
        np.testing.assert_allclose(loaded.predict(X), clf.predict_proba(data), atol=1e-5)
        assert loaded.output_names == ["0", "1", "2"]
        assert list(loaded.predict_labels(X)) == [str(v) for v in label]
    reg = LinearRegression().fit(data, target)
    onx = to_onnx(reg, data[:1], target_opset=17)
    (model_dir / "linreg.onnx").write_bytes(onx.SerializeToString())
    loaded = load_model(str(model_dir / "linreg.onnx"), "onnx")
    assert not loaded.is_classifier and loaded.n_features == 4
    np.testing.assert_allclose(loaded.predict(X)[:, 0], reg.predict(data), rtol=1e-5, atol=1e-4)


def test_fsspec_url_and_broadcast_bytes(tabular, model_dir: Path) -> None:
    import fsspec
    import xgboost as xgb

    X, y, _, _ = tabular
    model = xgb.XGBClassifier(n_estimators=5).fit(X, y)
    model.save_model(model_dir / "mem.json")
    with fsspec.open("memory://models/mem.json", "wb") as handle:
        handle.write((model_dir / "mem.json").read_bytes())
    loaded = load_model("memory://models/mem.json", "xgboost")
    np.testing.assert_allclose(loaded.predict(X), model.predict_proba(X), rtol=1e-6)
    source = read_source(str(model_dir / "mem.json"), "xgboost")
    import pickle

    again = load_source(pickle.loads(pickle.dumps(source)))
    assert again is load_source(source)  # one load per process and content
    np.testing.assert_allclose(again.predict(X), model.predict_proba(X), rtol=1e-6)


def test_load_errors_say_what_and_how(tabular, model_dir: Path) -> None:
    with pytest.raises(ModelError, match=r"model file not found: .*nope.json \(check predictor.model_uri\)"):
        load_model(str(model_dir / "nope.json"), "xgboost")
    (model_dir / "garbage.json").write_text("{not a model")
    with pytest.raises(ModelError, match=r"xgboost model .*garbage.json is not a JSON or UBJSON booster"):
        load_model(str(model_dir / "garbage.json"), "xgboost")
    (model_dir / "garbage.txt").write_text("hello")
    with pytest.raises(ModelError, match=r"lightgbm model .*garbage.txt is not a LightGBM text model"):
        load_model(str(model_dir / "garbage.txt"), "lightgbm")
    (model_dir / "garbage.onnx").write_bytes(b"\x00\x01nothing")
    with pytest.raises(ModelError, match=r"onnx model .*garbage.onnx cannot be opened by onnxruntime"):
        load_model(str(model_dir / "garbage.onnx"), "onnx")
    (model_dir / "garbage.skops").write_bytes(b"PK\x03\x04broken")
    with pytest.raises(ModelError, match=r"not a readable skops file"):
        load_model(str(model_dir / "garbage.skops"), "sklearn")
    (model_dir / "empty.skops").write_bytes(b"")
    with pytest.raises(ModelError, match=r"is empty"):
        load_model(str(model_dir / "empty.skops"), "sklearn")
    with pytest.raises(ModelError, match=r"is a folder"):
        load_model(str(model_dir), "onnx")
    with pytest.raises(ConfigError, match=r"unknown model framework 'torch'"):
        load_model(str(model_dir / "x.pt"), "torch")


def test_predict_errors_are_model_errors(tabular, model_dir: Path) -> None:
    import xgboost as xgb

    X, y, _, _ = tabular
    xgb.XGBClassifier(n_estimators=3).fit(X, y).save_model(model_dir / "small.json")
    loaded = load_model(str(model_dir / "small.json"), "xgboost")
    with pytest.raises(ModelError, match=r"expects 4 features per row, got 3"):
        loaded.predict(X.to_numpy()[:, :3])
    with pytest.raises(ModelError, match=r"needs features \['score'\] that the data does not have"):
        loaded.predict(X.drop(columns=["score"]))
    with pytest.raises(ModelError, match=r"non-numeric feature values"):
        loaded.predict(pd.DataFrame({c: ["a"] * 3 for c in X.columns}))
    sio.dump(LogisticRegression().fit(X, y), model_dir / "lr.skops")
    sk = load_model(str(model_dir / "lr.skops"), "sklearn")
    with pytest.raises(ModelError, match=r"sklearn model .*failed to predict 3 rows"):
        sk.predict(pd.DataFrame({c: ["a"] * 3 for c in X.columns}))
