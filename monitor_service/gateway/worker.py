"""One instance of a variant run as its own process (`InstanceType: local.process`).

The gateway starts `python -m monitor_service.gateway.worker --port P` with the model definition in
`MONITOR_WORKER_MODEL` (JSON) and talks to it as to a container (SageMaker's contract: `POST
/invocations`, `GET /ping`), so a worker is exactly what a SageMaker instance is to the endpoint:
the model loaded once, answering requests. Model errors come back with their status and message. A
worker exits by itself within a second when its gateway is gone, however the gateway ended.
"""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build_app(model_json: str, cache_dir: str) -> Starlette:
    from monitor_service.gateway.config import ModelDefinition
    from monitor_service.gateway.invokers import BuildContext, Invocation, build_model

    model = ModelDefinition.model_validate(json.loads(model_json))
    invoker = build_model(model, BuildContext(cache_dir=Path(cache_dir)))

    async def invocations(request: Request) -> Response:
        h = request.headers
        invocation = Invocation(await request.body(), h.get("content-type"), h.get("accept"),
                                h.get("x-amzn-sagemaker-custom-attributes"), h.get("x-amzn-sagemaker-target-model"))
        try:
            reply = await invoker.acall(invocation)
        except Exception as exc:  # the gateway turns this into the caller's ModelError
            status = int(getattr(exc, "status", 500))
            return Response(str(getattr(exc, "message", exc)).encode(), status_code=status, media_type="text/plain")
        headers = {}
        if reply.custom_attributes is not None:
            headers["X-Amzn-SageMaker-Custom-Attributes"] = reply.custom_attributes
        return Response(reply.body, media_type=reply.content_type, headers=headers)

    async def ping(request: Request) -> Response:
        return Response(b"", status_code=200)

    return Starlette(routes=[Route("/invocations", invocations, methods=["POST"]),
                             Route("/ping", ping, methods=["GET"])])


def _exit_with(parent: int) -> None:
    """A worker outlives no gateway: when the parent is gone (even killed with SIGKILL), exit."""
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:
            os._exit(0)


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="a gateway variant's worker process")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    threading.Thread(target=_exit_with, args=(os.getppid(),), daemon=True).start()
    app = build_app(os.environ["MONITOR_WORKER_MODEL"], os.environ.get("MONITOR_WORKER_CACHE", "monitor-data/models"))
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
