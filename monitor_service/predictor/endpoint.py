"""An HTTP model server as a predictor: batched requests, bounded timeouts, retries with backoff.

Transient failures (connection errors, timeouts, 429 and 5xx answers) are retried up to
`max_retries` times, waiting `backoff_seconds * 2**attempt` (at most 30 s) in between; any other
answer, or running out of attempts, is a ModelError naming the endpoint, the status and the
start of the answer. The object pickles without its connection pool, so a Spark job can ship it
to executors, each of which opens its own.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from monitor_service.errors import ModelError
from monitor_service.predictor.base import Predictor, class_names
from monitor_service.predictor.config import EndpointConfig
from monitor_service.predictor.payloads import parse_response, records_per_request, request_body

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_BACKOFF_SECONDS = 30.0


class HttpPredictor(Predictor):
    framework = "http"
    numeric_only = False

    def __init__(self, config: EndpointConfig, feature_names: list[str] | None = None,
                 output_count: int | None = None) -> None:
        self.config = config
        self.name = config.endpoint_url
        self.feature_names = feature_names
        self.n_features = len(feature_names) if feature_names is not None else None
        self.is_classifier = config.probability is not None or config.label is not None
        count = output_count or (len(config.label_headers) if config.label_headers else 1)
        self.output_names = list(config.label_headers) if config.label_headers else class_names(count)
        self._client: Any = None
        self.requests_sent = 0

    def describe(self) -> str:
        return f"endpoint {self.name}"

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_client"] = None
        return state

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def explained_outputs(self) -> list[int]:
        return list(range(len(self.output_names)))  # the endpoint answers exactly what is explained

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            timeout = httpx.Timeout(self.config.timeout_seconds, connect=min(self.config.timeout_seconds, 10.0))
            headers = {"Content-Type": self.config.content_type, "Accept": self.config.response_type(),
                       **self.config.headers}
            self._client = httpx.Client(timeout=timeout, headers=headers)
        return self._client

    def _predict(self, X: np.ndarray) -> np.ndarray:
        scores, _ = self._call_all(X)
        return scores

    def predict_labels(self, X: Any) -> np.ndarray:
        if self.config.label is None:
            return super().predict_labels(X)
        _, labels = self._call_all(self._as_matrix(X))
        return np.asarray(labels, dtype=object)

    def _call_all(self, X: np.ndarray) -> tuple[np.ndarray, list[str]]:
        step = records_per_request(self.config)
        scores: list[list[float]] = []
        labels: list[str] = []
        for start in range(0, X.shape[0], step):
            chunk = X[start : start + step]
            body = request_body(self.config, chunk, self.feature_names)
            got, got_labels = parse_response(self.config, self._send(body), chunk.shape[0])
            if len(got) != chunk.shape[0]:
                raise ModelError(
                    f"{self.describe()} answered {len(got)} predictions for {chunk.shape[0]} records",
                    hint="check content_type / accept_type and the probability locator",
                )
            scores.extend(got)
            labels.extend(got_labels or [])
        widths = {len(s) for s in scores}
        if len(widths) > 1:
            raise ModelError(f"{self.describe()} answered records with different numbers of scores {sorted(widths)}")
        matrix = np.asarray(scores, dtype=float)
        if self.config.label_headers is None and matrix.shape[1] != len(self.output_names):
            self.output_names = class_names(matrix.shape[1])
        elif matrix.shape[1] != len(self.output_names):
            raise ModelError(
                f"{self.describe()} answered {matrix.shape[1]} scores per record but label_headers names "
                f"{len(self.output_names)}",
                hint="make label_headers name each score the endpoint returns (or point probability at one)",
            )
        return matrix, labels

    def _send(self, body: bytes) -> bytes:
        import httpx

        attempts = self.config.max_retries + 1
        last = ""
        for attempt in range(attempts):
            if attempt:
                time.sleep(min(self.config.backoff_seconds * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS))
            self.requests_sent += 1
            try:
                response = self._http().post(self.config.endpoint_url, content=body)
            except httpx.TimeoutException:
                last = f"no answer within {self.config.timeout_seconds:g} s"
                continue
            except httpx.TransportError as exc:
                last = f"cannot connect: {exc}"
                continue
            if response.status_code == 200:
                return bytes(response.content)
            excerpt = response.text[:200].strip()
            last = f"HTTP {response.status_code}: {excerpt}"
            if response.status_code not in RETRY_STATUSES:
                raise ModelError(
                    f"{self.describe()} refused the request ({last})",
                    hint="check content_type, content_template and the feature values the model expects",
                )
        raise ModelError(
            f"{self.describe()} did not answer after {attempts} attempts (last: {last})",
            hint="check that the model server is up and reachable; raise timeout_seconds or max_retries if it is slow",
        )
