"""The HTTP predictor against a real model server on loopback: formats, batching, retries, failures."""

from __future__ import annotations

import json
import pickle
import socket
import time

import numpy as np
import pytest

from monitor_service.errors import ConfigError, ModelError
from monitor_service.predictor import EndpointConfig, HttpPredictor, build_predictor, parse_predictor
from tests.predictor.model_server import running_server, score

ROWS = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0], [0.0, 0.0, 0.0], [-2.0, 1.0, 0.5], [3.0, 1.0, 1.0]])
EXPECTED = np.array([score(list(r)) for r in ROWS])


@pytest.fixture(scope="module")
def server():
    with running_server() as (url, state):
        yield url, state


def _calls(state, path: str) -> list[str]:
    return [body for p, _, body in state.bodies if p == path]


def test_csv_batches_and_probability_index(server) -> None:
    url, state = server
    before = len(_calls(state, "/csv"))
    predictor = build_predictor(parse_predictor(
        {"endpoint_url": f"{url}/csv", "content_type": "text/csv", "accept_type": "text/csv",
         "probability": 1, "label": 0, "max_batch_size": 2}))
    np.testing.assert_allclose(predictor.predict(ROWS)[:, 0], EXPECTED, rtol=1e-15)
    bodies = _calls(state, "/csv")[before:]
    assert len(bodies) == 3  # 5 records in batches of 2
    assert bodies[0] == "0.5,-1,2\n1.5,0.25,-3\n"
    assert list(predictor.predict_labels(ROWS)) == [str(int(s > 0.5)) for s in EXPECTED]
    assert predictor.is_classifier and predictor.output_names == ["0"]


def test_csv_single_line_answer(server) -> None:
    url, _ = server
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/csv-line"))
    np.testing.assert_allclose(predictor.predict(ROWS)[:, 0], EXPECTED)


def test_jsonlines_template_and_jmespath(server) -> None:
    url, state = server
    config = parse_predictor({"endpoint_url": f"{url}/jsonl", "content_type": "application/jsonlines",
                              "accept_type": "application/jsonlines", "content_template": '{"features":$features}',
                              "probability": "score", "label": "predicted_label", "label_headers": ["fraud"]})
    predictor = build_predictor(config)
    np.testing.assert_allclose(predictor.predict(ROWS)[:, 0], EXPECTED)
    body = _calls(state, "/jsonl")[-1]
    assert json.loads(body.splitlines()[0]) == {"features": [0.5, -1.0, 2.0]}
    assert predictor.output_names == ["fraud"]
    assert list(predictor.predict_labels(ROWS)) == [str(int(s > 0.5)) for s in EXPECTED]


def test_json_records_and_record_objects(server) -> None:
    url, state = server
    config = EndpointConfig(endpoint_url=f"{url}/json-multi", content_type="application/json",
                            content_template='{"instances":$records}', record_template="$record",
                            probability="predictions[*].probabilities", label_headers=["no", "yes"])
    predictor = HttpPredictor(config, feature_names=["a", "b", "c"])
    out = predictor.predict(ROWS)
    np.testing.assert_allclose(out, np.column_stack([1 - EXPECTED, EXPECTED]))
    assert json.loads(_calls(state, "/json-multi")[-1])["instances"][0] == {"a": 0.5, "b": -1.0, "c": 2.0}
    assert predictor.explained_outputs() == [0, 1]


def test_json_one_record_per_request(server) -> None:
    url, state = server
    before = len(_calls(state, "/json-one"))
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/json-one", content_type="application/json",
                                             content_template='{"instances":[$features]}'))
    np.testing.assert_allclose(predictor.predict(ROWS)[:, 0], EXPECTED)
    assert len(_calls(state, "/json-one")) - before == len(ROWS)


def test_retries_with_backoff_then_success(server) -> None:
    url, state = server
    state.fail_first = 2
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/flaky", probability=1, backoff_seconds=0.05))
    started = time.perf_counter()
    np.testing.assert_allclose(predictor.predict(ROWS[:2])[:, 0], EXPECTED[:2])
    assert predictor.requests_sent == 3
    assert time.perf_counter() - started >= 0.05 + 0.1  # waited 0.05 s, then 0.1 s


def test_gives_up_after_retries(server) -> None:
    url, state = server
    state.fail_first = 100
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/flaky", max_retries=2, backoff_seconds=0.01))
    with pytest.raises(ModelError, match=r"/flaky did not answer after 3 attempts \(last: HTTP 503: warming"):
        predictor.predict(ROWS)
    assert predictor.requests_sent == 3


def test_refused_request_is_not_retried(server) -> None:
    url, _ = server
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/refuse", backoff_seconds=0.01))
    with pytest.raises(ModelError, match=r"refused the request \(HTTP 400: feature 3 is not a number\)"):
        predictor.predict(ROWS)
    assert predictor.requests_sent == 1


def test_timeout_is_bounded(server) -> None:
    url, state = server
    state.slow_seconds = 1.0
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/slow", timeout_seconds=0.2, max_retries=1,
                                             backoff_seconds=0.01))
    started = time.perf_counter()
    with pytest.raises(ModelError, match=r"no answer within 0.2 s"):
        predictor.predict(ROWS[:1])
    assert time.perf_counter() - started < 1.5


def test_nothing_listening() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"http://127.0.0.1:{port}/x", max_retries=1,
                                             backoff_seconds=0.01))
    with pytest.raises(ModelError, match=r"did not answer after 2 attempts \(last: cannot connect"):
        predictor.predict(ROWS)


def test_wrong_answer_shapes(server) -> None:
    url, _ = server
    wrong = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/jsonl", content_type="application/jsonlines",
                                         accept_type="application/jsonlines"))
    with pytest.raises(ModelError, match=r"answered an object .*set predictor.probability"):
        wrong.predict(ROWS)
    headers = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/csv", label_headers=["a", "b", "c"]))
    with pytest.raises(ModelError, match=r"answered 2 scores per record but label_headers names 3"):
        headers.predict(ROWS)


def test_pickles_without_connections(server) -> None:
    url, _ = server
    predictor = HttpPredictor(EndpointConfig(endpoint_url=f"{url}/csv", probability=1))
    predictor.predict(ROWS[:1])
    clone = pickle.loads(pickle.dumps(predictor))
    np.testing.assert_allclose(clone.predict(ROWS)[:, 0], EXPECTED)
    predictor.close()


@pytest.mark.parametrize(
    ("block", "message"),
    [
        ({"model_name": "DEMO-xgb", "instance_type": "ml.m5.xlarge"},
         r"neither which model file to load nor which endpoint.*model_name='DEMO-xgb'"),
        ({"model_uri": "m.json"}, r"predictor is invalid: framework: Field required"),
        ({"model_uri": "m.json", "framework": "torch"}, r"framework: Input should be 'sklearn'"),
        ({"model_uri": "m.json", "framework": "xgboost", "content_type": "text/csv"},
         r"content_type only applies to an endpoint_url predictor"),
        ({"endpoint_url": "ftp://x"}, r"must start with http:// or https://"),
        ({"endpoint_url": "http://127.0.0.1:1/", "content_type": "application/jsonlines",
          "content_template": "{}"}, r"must contain \$features or \$record"),
        ({"endpoint_url": "http://127.0.0.1:1/", "probability": "score"}, r"column index for text/csv"),
        ({"endpoint_url": "http://127.0.0.1:1/", "accept_type": "application/json", "probability": "a[?"},
         r"not a valid JMESPath"),
        ({"endpoint_url": "http://127.0.0.1:1/", "label_headers": ["a", "a"]}, r"repeat a name"),
        ("nope", r"must be a JSON object"),
    ],
)
def test_config_errors(block, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_predictor(block)


def test_sagemaker_keys_are_ignored_beside_a_model_file() -> None:
    config = parse_predictor({"model_name": "DEMO", "instance_type": "ml.m5.xlarge", "initial_instance_count": 1,
                              "model_uri": "s3://bucket/model.json", "framework": "xgboost"})
    assert config.model_uri == "s3://bucket/model.json" and config.trusted is False
