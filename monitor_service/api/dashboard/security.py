"""Sign-in, the session cookie, CSRF and the response headers of every dashboard page.

- The cookie `monitor_session` holds a random token (see `service/ui_sessions.py`): `HttpOnly`,
  `SameSite=Lax`, `Path=/ui`, `Max-Age` = the session lifetime, `Secure` over https (or always,
  with MONITOR_UI_COOKIE_SECURE=true). It cannot be forged (only its hash is stored) and dies
  with its API key.
- Every form that changes something carries the session's CSRF token and is refused without it;
  a request whose `Origin` is another site is refused too. The sign-in form has its own
  double-submit token, so another site cannot sign a browser in with the attacker's key.
- Pages allow scripts from this server only (no inline script, no CDN) and are framed only here.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Annotated
from urllib.parse import parse_qs, quote, urlsplit

from fastapi import Depends, HTTPException, Request, Response, status

from monitor_service.api.deps import ResourcesDep, SessionDep
from monitor_service.service.ui_sessions import SignedIn, resolve

PREFIX = "/ui"
SESSION_COOKIE = "monitor_session"
LOGIN_COOKIE = "monitor_login"
PAGE_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               "frame-src 'self'; frame-ancestors 'self'; form-action 'self'; base-uri 'none'; object-src 'none'")
# Run reports are inline-scripted pages of their own: sandboxed (a unique origin, no cookies, no
# forms) and allowed to reach nothing outside themselves.
REPORT_POLICY = ("sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; "
                 "style-src 'unsafe-inline'; img-src data: blob:; font-src data:; frame-ancestors 'self'")
FormData = dict[str, list[str]]


def secure_headers(response: Response, policy: str = PAGE_POLICY) -> Response:
    response.headers["Content-Security-Policy"] = policy
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def cookie_secure(request: Request, resources: ResourcesDep) -> bool:
    configured = resources.settings.ui_cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def set_session_cookie(response: Response, token: str, lifetime: timedelta, secure: bool) -> None:
    response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()), path=PREFIX, httponly=True,
                        samesite="lax", secure=secure)


def clear_session_cookie(response: Response, secure: bool) -> None:
    response.delete_cookie(SESSION_COOKIE, path=PREFIX, httponly=True, samesite="lax", secure=secure)


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def set_login_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(LOGIN_COOKIE, token, max_age=3600, path=PREFIX, httponly=True, samesite="strict",
                        secure=secure)


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a dashboard path only (never another site)."""
    if not target:
        return PREFIX + "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(PREFIX) or target.startswith("//"):
        return PREFIX + "/"
    return target


def _login_redirect(request: Request) -> HTTPException:
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return HTTPException(status.HTTP_303_SEE_OTHER, headers={"Location": f"{PREFIX}/login?next={quote(here)}"})


def viewer(request: Request, session: SessionDep, resources: ResourcesDep) -> SignedIn:
    """The signed-in caller, or a redirect to the sign-in page."""
    token = request.cookies.get(SESSION_COOKIE)
    found = resolve(session, token, now=resources.clock.now()) if token else None
    if found is None:
        raise _login_redirect(request)
    return found


Viewer = Annotated[SignedIn, Depends(viewer)]


async def form_data(request: Request) -> FormData:
    """The urlencoded form of a POST (the dashboard's forms post nothing else)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise HTTPException(status.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "dashboard forms are urlencoded")
    body = (await request.body()).decode("utf-8", errors="replace")
    return parse_qs(body, keep_blank_values=True)


Form = Annotated[FormData, Depends(form_data)]


def same_origin(request: Request) -> None:
    """Refuse a form posted from another site (browsers send Origin with every POST)."""
    origin = request.headers.get("origin")
    if origin is not None and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "this form was posted from another site")


def check_csrf(request: Request, form: FormData, signed_in: SignedIn) -> None:
    same_origin(request)
    sent = (form.get("csrf") or [""])[-1]
    if not hmac.compare_digest(sent, signed_in.csrf):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "the form's security token is missing or stale; "
                                                       "reload the page and submit again")


def require_admin(signed_in: SignedIn) -> None:
    if not signed_in.is_admin:
        raise HTTPException(status.HTTP_403_FORBIDDEN, f"this key has the role {signed_in.key.role!r}; "
                                                       "changes need an admin key")
