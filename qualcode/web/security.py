"""Who may use the workspace: the holder of the token ``qualcode serve`` printed.

The first visit carries ``?token=…``; it is exchanged for an HttpOnly, SameSite=Strict
cookie and the token leaves the address bar (a redirect). Every later request needs that
cookie, else 403. Requests that change something (anything but GET/HEAD) also need the
page's CSRF token in the ``X-CSRF-Token`` header, and an ``Origin``, when the browser sends
one, naming this server. Every response carries a strict Content-Security-Policy: scripts
and styles from the workspace's own static files only, no connections elsewhere.
"""
from __future__ import annotations

import hmac
import secrets
import time
from urllib.parse import urlencode, urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse

COOKIE = "qualcode_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = ("GET", "HEAD")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
FORBIDDEN = ("403 需要访问令牌：请使用 qualcode serve 打印的完整网址打开。\n"
             "403 An access token is needed: open the full URL that qualcode serve printed.\n")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(given: str | None, expected: str) -> bool:
    return bool(given) and hmac.compare_digest(given.encode(), expected.encode())  # type: ignore[union-attr]


class TokenGuard:
    """ASGI middleware: the token check, CSRF on state changes, and the security headers."""

    def __init__(self, app, token: str, csrf: str):
        self.app = app
        self.token = token
        self.csrf = csrf

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        began = time.perf_counter()

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                # the time the response took to make (its body is complete before its headers go):
                # browsers' developer tools and benchmarks/workspace.py read it
                took = f"app;dur={(time.perf_counter() - began) * 1000:.1f}".encode()
                message["headers"] = list(message.get("headers", [])) + HEADERS + [(b"server-timing", took)]
            await send(message)

        request = Request(scope)
        given = request.query_params.get("token")
        if given is not None and same(given, self.token):
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
            response = RedirectResponse(request.url.path + ("?" + urlencode(rest) if rest else ""), status_code=303)
            response.set_cookie(COOKIE, self.token, httponly=True, samesite="strict", path="/")
            return await response(scope, receive, send_with_headers)
        if not same(request.cookies.get(COOKIE), self.token):
            return await PlainTextResponse(FORBIDDEN, status_code=403)(scope, receive, send_with_headers)
        if request.method not in SAFE_METHODS and not self._same_site(request):
            return await PlainTextResponse("403 CSRF check failed\n", status_code=403)(scope, receive, send_with_headers)
        return await self.app(scope, receive, send_with_headers)

    def _same_site(self, request: Request) -> bool:
        if not same(request.headers.get(CSRF_HEADER), self.csrf):
            return False
        origin = request.headers.get("origin")
        return origin is None or urlsplit(origin).netloc == request.headers.get("host")
