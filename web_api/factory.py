"""The FastAPI application of the API: the routers and the error handlers."""

from __future__ import annotations

from crm_web_api import routes_people, routes_work
from crm_web_api.app import PREFIX, Api, ApiError, _error_response, _plain
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from crm_core.app import Tongxin


def make_api(tongxin: Tongxin) -> FastAPI:
    """The API of ``tongxin`` under ``/api/v1/`` (OpenAPI at ``/api/v1/openapi.json``;
    no interactive documentation pages, which would load scripts from elsewhere)."""
    api = FastAPI(
        title="tongxin API",
        version="1",
        description="The liaison data of a CPPCC office: docs/api.md",
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    state = Api(tongxin)
    api.state.tongxin = state

    @api.exception_handler(ApiError)
    def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error_response(exc)

    @api.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ())),
                "value": _plain(e.get("input")),
                "message": e.get("msg", ""),
            }
            for e in exc.errors()
        ]
        names = ", ".join(f["field"] for f in fields)
        return _error_response(ApiError(422, f"invalid input: {names}", fields))

    @api.exception_handler(StarletteHTTPException)
    def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error_response(ApiError(exc.status_code, str(exc.detail)))

    api.include_router(routes_people.router(state), prefix=PREFIX)
    api.include_router(routes_work.router(state), prefix=PREFIX)
    return api
