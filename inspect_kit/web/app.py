"""The web application: ``create_app(services)`` builds it; ``inspect serve`` runs it.

Thin shell, like the CLI: every page and API route is a short wrapper around a library function
(the same services the CLI calls). Each route declares who may open it (inspect_kit.web.access);
``create_app`` refuses to build an application with a route that declares nothing.

Routers, one per kind of user (inspect_kit.web.pages.*), and the JSON API under /api
(inspect_kit.web.api). Static assets are served from inspect_kit/web/static (no CDN: county
intranets have no internet).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from inspect_kit.errors import InspectError
from inspect_kit.web import STATIC
from inspect_kit.web.access import LoginRequired, ungated
from inspect_kit.web.context import Services
from inspect_kit.web.security import SecurityHeaders

ROUTERS = (  # each module has `router`; one line per module
    "inspect_kit.web.pages.auth",
    "inspect_kit.web.pages.coordinator",
    "inspect_kit.web.pages.field",
    "inspect_kit.web.pages.assessor",
    "inspect_kit.web.pages.admin",
    "inspect_kit.web.api",
    "inspect_kit.web.public.pages",
)


def create_app(services: Services) -> FastAPI:
    import importlib

    app = FastAPI(
        title="inspect-kit",
        description="双随机、一公开 inspections: the JSON API for provincial platforms and scripts.",
        docs_url=None,  # Swagger UI loads its scripts from a CDN: not on a county intranet
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
        openapi_url="/openapi.json",
    )
    app.state.services = services
    for name in ROUTERS:
        app.include_router(importlib.import_module(name).router)
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    missing = ungated(app.routes)
    if missing:
        raise RuntimeError("routes without an access rule (deny by default): " + "; ".join(missing))
    _handlers(app, services)
    from inspect_kit.web.public.guard import PublicGuard, PublicValues

    app.add_middleware(PublicGuard, values=PublicValues(services.engine))  # every /public response
    app.add_middleware(SecurityHeaders, hsts=services.secure_cookies)
    return app


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _handlers(app: FastAPI, services: Services) -> None:
    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        return RedirectResponse(f"/login?next={quote(exc.next_url)}", status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        message = exc.detail if exc.status_code != 404 or exc.detail != "Not Found" else "没有这个页面。"
        return services.render(
            request, "error.html", status_code=exc.status_code, message=message, code=exc.status_code
        )

    @app.exception_handler(InspectError)
    async def user_error(request: Request, exc: InspectError) -> Response:
        if _wants_json(request):
            return JSONResponse({"detail": str(exc)}, status_code=422)
        return services.render(request, "error.html", status_code=422, message=str(exc), code=422)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems: list[dict[str, Any]] = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "reason": e.get("msg", "")} for e in exc.errors()
        ]
        if _wants_json(request):
            return JSONResponse({"detail": problems}, status_code=422)
        text = "; ".join(f"{p['where']}: {p['reason']}" for p in problems)
        return services.render(request, "error.html", status_code=422, message=text, code=422)
