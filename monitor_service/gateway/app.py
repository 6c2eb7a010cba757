"""The gateway's HTTP surface: SageMaker's runtime `InvokeEndpoint` path, `/ping` and `/metrics`.

`POST /endpoints/{EndpointName}/invocations` routes the request to a production variant (the
`X-Amzn-SageMaker-Target-Variant` header wins, else the endpoint's router policy), calls its model,
writes the capture line to the spool when the request is sampled, and answers with the model's
bytes and `X-Amzn-Invoked-Production-Variant`. The answer is sent only once the capture line is in
the spool (fsynced first under `FsyncPolicy: always`): a 2xx means the line survives a crash.

Errors are SageMaker's, with `x-amzn-ErrorType` and a JSON body `{"__type", "message"}` that boto3
parses: `ValidationError` (400: unknown endpoint or variant, bad header, 413 for a payload over
`MaxPayloadMB`), `ModelError` (424, with `OriginalStatusCode` and `OriginalMessage`: the model
refused the payload or failed), `ThrottlingException` (429: the capture spool is full and
`WhenSpoolFull: reject`), `ServiceUnavailable` (503: no configuration yet, or the capture line
could not be written).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from monitor_service.errors import MonitorError
from monitor_service.gateway.capture import EndpointCapture
from monitor_service.gateway.config import GatewaySettings
from monitor_service.gateway.invokers import BuildContext, Invocation, Invoker
from monitor_service.gateway.metrics import GatewayMetrics
from monitor_service.gateway.routing import Outcome, RoutingContext
from monitor_service.gateway.sources import ConfigSource, Snapshot
from monitor_service.gateway.spool import Spool, SpoolFull
from monitor_service.gateway.state import GatewayState, VariantRuntime, build_state, retired
from monitor_service.gateway.uploader import Uploader

log = logging.getLogger("monitor_service.gateway")

TARGET_VARIANT = "x-amzn-sagemaker-target-variant"
INFERENCE_ID = "x-amzn-sagemaker-inference-id"
CUSTOM_ATTRIBUTES = "x-amzn-sagemaker-custom-attributes"
TARGET_MODEL = "x-amzn-sagemaker-target-model"
INVOKED_VARIANT = "X-Amzn-Invoked-Production-Variant"
CAPTURE_HEADER = "X-Monitor-Capture"
_INFERENCE_ID = re.compile(r"^\S[\x20-\x7e]{0,63}$")
_ASCII = re.compile(r"^[\x20-\x7e]{0,1024}$")


def error_response(status: int, code: str, message: str, extra: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    body = {"__type": code, "message": message, **(extra or {})}
    return Response(json.dumps(body).encode(), status_code=status, media_type="application/json",
                    headers={"x-amzn-ErrorType": code, **(headers or {})})


class Gateway:
    """One gateway process: the live state, the capture spool and uploader, the config poller."""

    def __init__(self, settings: GatewaySettings, source: ConfigSource, metrics: GatewayMetrics | None = None) -> None:
        self.settings = settings
        self.source = source
        self.metrics = metrics or GatewayMetrics()
        self.executor = ThreadPoolExecutor(settings.ModelThreads, thread_name_prefix="model")
        self.uploader = Uploader(settings, self.metrics, released=lambda n: self.spool.released(n))
        self.spool = Spool(settings, self.metrics, on_closed=self.uploader.submit)
        self.context = BuildContext(cache_dir=Path(settings.ModelCacheDirectory), executor=self.executor,
                                    cache_bytes=settings.MultiModelCacheBytes,
                                    inline_max_seconds=settings.InlineModelCallMaxMs / 1000)
        self.state: GatewayState | None = None
        self._poller: asyncio.Task[None] | None = None
        self._background: set[asyncio.Task[None]] = set()
        self.max_payload = int(settings.MaxPayloadMB * 1024 * 1024)

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        for segment in self.spool.start():
            self.uploader.submit(segment)
        self.uploader.start()
        snapshot = await asyncio.to_thread(self.source.poll)
        if snapshot is not None:
            await self._apply(snapshot)
        self._poller = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        """Flush the spool and upload before exiting (SIGTERM); what cannot be uploaded stays spooled."""
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
        await asyncio.to_thread(self.spool.close_all)
        uploaded = await asyncio.to_thread(self.uploader.drain, self.settings.ShutdownUploadTimeoutSeconds)
        if not uploaded:
            log.warning("gateway: %d capture segments not uploaded before exit; they stay in %s and are "
                        "uploaded at the next start", self.uploader.pending, self.settings.SpoolDirectory)
        self.uploader.stop()
        if self.state is not None:
            for invoker in self.state.invokers.values():
                invoker.close()
        self.executor.shutdown(wait=False, cancel_futures=True)
        await asyncio.to_thread(self.source.close)

    async def _apply(self, snapshot: Snapshot) -> None:
        previous = self.state
        loop = asyncio.get_running_loop()
        state = await loop.run_in_executor(
            None, lambda: build_state(snapshot.config, snapshot.version, self.context, self.metrics,
                                      snapshot.variants, previous))
        self.state = state
        self.metrics.config_version.set(_numeric(snapshot.version))
        if snapshot.config.Gateway != self.settings and snapshot.config.Gateway.model_fields_set:
            log.warning("gateway: configuration %s changes the Gateway block; it applies at the next restart",
                        snapshot.version)
        log.info("gateway: configuration %s in use (%d endpoints)", snapshot.version, len(state.endpoints))
        old = retired(previous, state)
        if old:
            task = asyncio.create_task(self._retire(old))
            self._background.add(task)
            task.add_done_callback(self._background.discard)

    async def _retire(self, invokers: list[Invoker]) -> None:
        while any(i.inflight for i in invokers):
            await asyncio.sleep(0.2)
        for invoker in invokers:
            invoker.close()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.settings.PollSeconds)
            try:
                snapshot = await asyncio.to_thread(self.source.poll)
                if snapshot is not None:
                    await self._apply(snapshot)
            except MonitorError as exc:
                self.metrics.config_errors.inc()
                log.error("gateway: configuration change not applied, the previous one stays in use: %s", exc)
            except Exception:
                self.metrics.config_errors.inc()
                log.exception("gateway: configuration poll failed; the previous configuration stays in use")

    # -- routes --------------------------------------------------------------------------------
    async def ping(self, request: Request) -> Response:
        state = self.state
        if state is None:
            return error_response(503, "ServiceUnavailable", "the gateway has no configuration yet")
        body = {"status": "Healthy", "configVersion": state.version, "endpoints": sorted(state.endpoints),
                "spooledBytes": self.spool.used_bytes, "segmentsWaitingForUpload": self.uploader.pending}
        return Response(json.dumps(body).encode(), media_type="application/json")

    async def endpoints(self, request: Request) -> Response:
        state = self.state
        listing = [] if state is None else [
            {"EndpointName": e.name, "ProductionVariants": [
                {"VariantName": v.state.name, "ModelName": v.model_name, "CurrentWeight": v.state.weight,
                 "CurrentInstanceCount": v.state.instance_count} for v in e.variants.values()],
             "DataCapture": None if e.capture is None else {"SamplingPercentage": e.capture.percentage,
                                                            "Destination": e.capture.destination}}
            for e in state.endpoints.values()]
        return Response(json.dumps({"configVersion": state.version if state else None, "Endpoints": listing}).encode(),
                        media_type="application/json")

    async def metrics_route(self, request: Request) -> Response:
        return Response(self.metrics.render(), media_type="text/plain; version=0.0.4")

    async def invocations(self, request: Request) -> Response:
        started = time.perf_counter()
        name = request.path_params["endpoint"]
        state = self.state
        if state is None:
            return error_response(503, "ServiceUnavailable", "the gateway has no configuration yet; retry shortly")
        endpoint = state.endpoints.get(name)
        if endpoint is None:
            return self._invalid(name, f"Endpoint {name} not found (endpoints: {', '.join(sorted(state.endpoints))})")
        headers = request.headers
        inference_id = headers.get(INFERENCE_ID)
        if inference_id is not None and not _INFERENCE_ID.match(inference_id):
            return self._invalid(name, "X-Amzn-SageMaker-Inference-Id must be 1-64 printable ASCII characters "
                                 "not starting with a space")
        custom = headers.get(CUSTOM_ATTRIBUTES)
        if custom is not None and not _ASCII.match(custom):
            return self._invalid(name, "X-Amzn-SageMaker-Custom-Attributes must be at most 1024 printable ASCII "
                                 "characters")
        body = await request.body()
        if len(body) > self.max_payload:
            return self._invalid(name, f"the payload is {len(body)} bytes; the limit is {self.max_payload} "
                                 "(Gateway.MaxPayloadMB)", status=413)
        event_id = str(uuid.uuid4())
        key = inference_id or event_id
        target = headers.get(TARGET_VARIANT)
        if target is not None:
            variant = endpoint.variants.get(target)
            if variant is None:
                return self._invalid(name, f"Endpoint {name} has no production variant {target!r} (variants: "
                                     f"{', '.join(endpoint.variants)})")
        else:
            chosen = endpoint.policy.choose(endpoint.states(), RoutingContext(key, inference_id, headers))
            if chosen is None:
                return self._invalid(name, f"every variant of endpoint {name} has weight 0; name one with "
                                     "X-Amzn-SageMaker-Target-Variant or change the weights")
            variant = endpoint.variants[chosen]
        capture = endpoint.capture
        sample = capture is not None and capture.wants(key)
        m = variant.metrics
        drop = False
        if sample and not self.spool.has_room():
            if self.settings.WhenSpoolFull == "reject":
                return self._spool_full(variant)
            drop = True
        when = datetime.now(UTC)
        m.invocations.inc()
        content_type = headers.get("content-type")
        invocation = Invocation(body, content_type, headers.get("accept"), custom, headers.get(TARGET_MODEL),
                                inference_id)
        invoker = variant.invoker
        invoker.inflight += 1
        model_started = time.perf_counter()
        try:
            reply = await invoker.acall(invocation)
        except MonitorError as exc:
            model_seconds = time.perf_counter() - model_started
            return self._model_error(name, variant, exc, started, model_seconds)
        except Exception as exc:  # a model must never take the gateway down
            log.exception("gateway: %s/%s raised", name, variant.state.name)
            return self._model_error(name, variant, exc, started, time.perf_counter() - model_started)
        finally:
            invoker.inflight -= 1
        model_seconds = time.perf_counter() - model_started
        out_headers = {INVOKED_VARIANT: variant.state.name, "Content-Type": reply.content_type}
        if reply.custom_attributes is not None:
            out_headers["X-Amzn-SageMaker-Custom-Attributes"] = reply.custom_attributes
        if sample:
            assert capture is not None
            refused = await self._capture(capture, variant, name, drop, event_id, inference_id, when, custom,
                                          invocation, reply.body, reply.content_type, out_headers)
            if refused is not None:
                return refused
        elif capture is not None:
            m.sampled_out.inc()
        response = Response(reply.body, headers=out_headers)
        m.model_latency.observe(model_seconds * 1e6)
        m.overhead_latency.observe((time.perf_counter() - started - model_seconds) * 1e6)
        endpoint.policy.observe(RoutingContext(key, inference_id), Outcome(variant.state.name, 200,
                                                                          model_seconds * 1e6))
        return response

    async def _capture(self, capture: EndpointCapture, variant: VariantRuntime, endpoint: str, drop: bool,
                       event_id: str, inference_id: str | None, when: datetime, custom: str | None,
                       invocation: Invocation, response: bytes, response_type: str,
                       out_headers: dict[str, str]) -> Response | None:
        """Spool the line; a refusal Response under `reject`, else None (a drop is counted and flagged)."""
        m = variant.metrics
        if drop:
            m.dropped_full.inc()
            out_headers[CAPTURE_HEADER] = "dropped; spool full"
            return None
        line = capture.record(event_id=event_id, inference_id=inference_id, when=when, custom_attributes=custom,
                              request=invocation.body, request_type=invocation.content_type, response=response,
                              response_type=response_type).to_line()
        try:
            waiter = self.spool.append(capture.destination, endpoint, variant.state.name, when, line)
            if waiter is not None:
                await asyncio.wrap_future(waiter)
        except SpoolFull:
            if self.settings.WhenSpoolFull == "reject":
                return self._spool_full(variant)
            m.dropped_full.inc()
            out_headers[CAPTURE_HEADER] = "dropped; spool full"
        except OSError as exc:
            m.dropped_error.inc()
            log.error("gateway: capture line of %s/%s not written: %s", endpoint, variant.state.name, exc)
            if self.settings.WhenSpoolFull == "reject":
                return error_response(503, "ServiceUnavailable", f"the capture line could not be written to the "
                                      f"spool ({exc.strerror or exc}); the request was not acknowledged")
            out_headers[CAPTURE_HEADER] = "dropped; write error"
        return None

    def _invalid(self, endpoint: str, message: str, status: int = 400) -> Response:
        self.metrics.validation_errors.labels(endpoint, "ValidationError").inc()
        return error_response(status, "ValidationError", message)

    def _spool_full(self, variant: VariantRuntime) -> Response:
        variant.metrics.rejected.inc()
        return error_response(429, "ThrottlingException",
                              f"the data-capture spool is full ({self.spool.used_bytes} of "
                              f"{self.settings.SpoolMaxBytes} bytes waiting for upload); the request was not "
                              "processed, so no capture is lost: retry after a moment",
                              headers={"Retry-After": "1"})

    def _model_error(self, endpoint: str, variant: VariantRuntime, exc: Exception, started: float,
                     model_seconds: float) -> Response:
        status = getattr(exc, "status", 500)
        message = getattr(exc, "message", f"{exc.__class__.__name__}: {exc}")
        m = variant.metrics
        (m.errors_4xx if 400 <= status < 500 else m.errors_5xx).inc()
        m.model_latency.observe(model_seconds * 1e6)
        m.overhead_latency.observe((time.perf_counter() - started - model_seconds) * 1e6)
        kind = "client" if 400 <= status < 500 else "server"
        return error_response(
            424, "ModelError", f"Received {kind} error ({status}) from model {variant.model_name} of variant "
            f"{variant.state.name} with message \"{message}\".",
            extra={"OriginalStatusCode": status, "OriginalMessage": message},
            headers={INVOKED_VARIANT: variant.state.name})


def _numeric(version: str) -> float:
    tail = version.rsplit(":", 1)[-1]
    try:
        return float(int(tail, 10))
    except ValueError:
        return float(int(tail[:12], 16)) if re.fullmatch(r"[0-9a-f]+", tail) else 0.0


def create_gateway_app(gateway: Gateway) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gateway.start()
        try:
            yield
        finally:
            await gateway.stop()

    routes = [
        Route("/endpoints/{endpoint}/invocations", gateway.invocations, methods=["POST"]),
        Route("/ping", gateway.ping, methods=["GET"]),
        Route("/endpoints", gateway.endpoints, methods=["GET"]),
        Route("/metrics", gateway.metrics_route, methods=["GET"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
