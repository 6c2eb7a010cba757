"""Dependencies shared by the routes: the unit-of-work session, the clock, and API-key roles.

The key itself is checked by `api.guards.AuthenticateFirst` before the body is read; the
dependencies here read what it found (and check it themselves when the app runs without the
guard), so the OpenAPI document still shows the bearer scheme on every protected route.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session, sessionmaker

from monitor_service.api.guards import STATE_KEY, KeyIdentity
from monitor_service.core.registry import Registry
from monitor_service.monitors.base import MonitorPlugin
from monitor_service.scheduler.clock import Clock
from monitor_service.service.apikeys import authenticate
from monitor_service.settings import Settings
from monitor_service.store.artifacts import ArtifactStore


@dataclass
class Resources:
    """What the lifespan builds and every request shares (kept on `app.state.resources`)."""

    settings: Settings
    factory: sessionmaker[Session]
    artifacts: ArtifactStore
    clock: Clock
    monitors: Registry[MonitorPlugin]


def get_resources(request: Request) -> Resources:
    resources: Resources = request.app.state.resources
    return resources


def get_session(resources: Annotated[Resources, Depends(get_resources)]) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back if it raises."""
    with resources.factory() as session, session.begin():
        yield session


ResourcesDep = Annotated[Resources, Depends(get_resources)]
SessionDep = Annotated[Session, Depends(get_session)]
_bearer = HTTPBearer(auto_error=False, description="An API key from `monitor apikey create`")


def current_key(request: Request, resources: Annotated[Resources, Depends(get_resources)],
                credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> KeyIdentity:
    known = getattr(request.state, STATE_KEY, None)
    if isinstance(known, KeyIdentity):
        return known
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing API key: send 'Authorization: Bearer <key>'",
                            headers=challenge)
    with resources.factory() as session:
        key = authenticate(session, credentials.credentials)
        if key is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, "invalid or revoked API key", headers=challenge)
        return KeyIdentity(id=key.id, role=key.role, name=key.name)


def require_admin(key: Annotated[KeyIdentity, Depends(current_key)]) -> KeyIdentity:
    if key.role != "admin":
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this API key has the role {key.role!r}; "
                            "changes need an 'admin' key")
    return key


ReadAccess = Depends(current_key)
AdminAccess = Depends(require_admin)
