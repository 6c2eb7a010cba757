"""The `container` framework: an upstream server implementing SageMaker's container contract.

Requests go to `POST {Url}/invocations` with the caller's Content-Type, Accept and
`X-Amzn-SageMaker-Custom-Attributes` (and `X-Amzn-SageMaker-Target-Model` for a MultiModel
container, as SageMaker's multi-model servers expect); health is `GET {Url}/ping`. The gateway
keeps a pool of keep-alive connections (aiohttp, which is faster than httpx under concurrency)
inside its event loop; batch transform uses a blocking httpx client. A refused connection, a
timeout or a 5xx is the model's 5xx, a 4xx its 4xx, each with the upstream's message.
"""

from __future__ import annotations

import contextlib
from typing import Any

from monitor_service.errors import ModelInvocationError
from monitor_service.gateway.config import ContainerDefinition
from monitor_service.gateway.invokers import FRAMEWORKS, BuildContext, Invocation, Invoker, Reply

CUSTOM_ATTRIBUTES = "X-Amzn-SageMaker-Custom-Attributes"
TARGET_MODEL = "X-Amzn-SageMaker-Target-Model"
_MESSAGE_CHARS = 2000


class ContainerInvoker(Invoker):
    def __init__(self, container: ContainerDefinition, model_name: str, context: BuildContext) -> None:
        super().__init__()
        assert container.Url is not None
        self.name = model_name
        self.base = container.Url.rstrip("/")
        self.timeout = container.TimeoutSeconds
        self.multi_model = container.Mode == "MultiModel"
        self._session: Any = None
        self._client: Any = None

    def _headers(self, invocation: Invocation) -> dict[str, str]:
        headers = {"Content-Type": invocation.content_type or "application/octet-stream"}
        if invocation.accept:
            headers["Accept"] = invocation.accept
        if invocation.custom_attributes is not None:
            headers[CUSTOM_ATTRIBUTES] = invocation.custom_attributes
        if self.multi_model:
            if not invocation.target_model:
                raise ModelInvocationError(400, "this is a multi-model endpoint: name the model with the "
                                           "X-Amzn-SageMaker-Target-Model header")
            headers[TARGET_MODEL] = invocation.target_model
        return headers

    def _answer(self, status: int, body: bytes, headers: Any) -> Reply:
        if status >= 400:
            text = body[:_MESSAGE_CHARS].decode("utf-8", errors="replace")
            raise ModelInvocationError(status, f"the container at {self.base} answered {status}: {text}")
        return Reply(body, headers.get("Content-Type", "application/octet-stream"), headers.get(CUSTOM_ATTRIBUTES))

    async def acall(self, invocation: Invocation) -> Reply:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300),
                timeout=aiohttp.ClientTimeout(total=self.timeout), auto_decompress=False)
        try:
            async with self._session.post(f"{self.base}/invocations", data=invocation.body,
                                          headers=self._headers(invocation)) as response:
                body = await response.read()
                return self._answer(response.status, body, response.headers)
        except TimeoutError as exc:
            raise ModelInvocationError(504, f"the container at {self.base} did not answer within "
                                       f"{self.timeout:g} s (TimeoutSeconds)") from exc
        except aiohttp.ClientError as exc:
            raise ModelInvocationError(502, f"cannot reach the container at {self.base}: {exc}") from exc

    def call(self, invocation: Invocation) -> Reply:
        import httpx

        if self._client is None:
            self._client = httpx.Client(timeout=self.timeout)
        try:
            response = self._client.post(f"{self.base}/invocations", content=invocation.body,
                                         headers=self._headers(invocation))
        except httpx.TimeoutException as exc:
            raise ModelInvocationError(504, f"the container at {self.base} did not answer within "
                                       f"{self.timeout:g} s (TimeoutSeconds)") from exc
        except httpx.HTTPError as exc:
            raise ModelInvocationError(502, f"cannot reach the container at {self.base}: {exc}") from exc
        return self._answer(response.status_code, response.content, response.headers)

    async def ping(self) -> bool:
        import aiohttp

        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session, \
                    session.get(f"{self.base}/ping") as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        session, self._session = self._session, None
        if session is not None and not session.closed:
            import asyncio

            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().create_task(session.close())


FRAMEWORKS.register("container", ContainerInvoker)
