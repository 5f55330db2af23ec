"""What every route shares: authentication, running work as the caller, errors, ETags."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer

from crm_core.app import Tongxin
from crm_core.errors import Ambiguous, Conflict, NotFound, PermissionDenied, ValidationError
from crm_core.services import api_tokens
from crm_core.unit import Unit

log = logging.getLogger("tongxin.api")
T = TypeVar("T")
PREFIX = "/api/v1"
bearer_scheme = HTTPBearer(auto_error=False, description="tongxin api token create ACCOUNT")


class ApiError(Exception):
    """An answer other than 200: ``status``, a message and the fields concerned."""

    def __init__(
        self, status: int, message: str, fields: list[dict[str, Any]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.fields = fields or []


def error_body(status: int, message: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The one shape of every error: ``{"error": {"status", "message", "fields"}}``,
    each field ``{"field", "value", "message"}`` (``field`` a dotted path such as
    ``body.people.0``)."""
    return {"error": {"status": status, "message": message, "fields": fields}}


def _error_response(exc: ApiError) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
    return JSONResponse(
        error_body(exc.status, exc.message, exc.fields), status_code=exc.status, headers=headers
    )


def _service_error(exc: Exception) -> ApiError:
    if isinstance(exc, ValidationError):
        fields = [
            {"field": e.field, "value": _plain(e.value), "message": e.text} for e in exc.errors
        ]
        return ApiError(422, exc.text, fields)
    if isinstance(exc, NotFound):
        return ApiError(404, str(exc))
    if isinstance(exc, Ambiguous):
        return ApiError(409, str(exc))
    if isinstance(exc, PermissionDenied):
        return ApiError(403, str(exc))
    if isinstance(exc, Conflict):
        return ApiError(409, str(exc))
    raise exc


def _plain(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else str(value)


class Api:
    """What every route needs: the application, and running work as the caller."""

    def __init__(self, tongxin: Tongxin) -> None:
        self.tongxin = tongxin

    def caller(self, request: Request, *, write: bool = False) -> api_tokens.Bearer:
        """The bearer of the request's token (401 without a live one; 403 for a write
        with a read-only token)."""
        header = request.headers.get("authorization", "")
        scheme, _sp, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(401, "an API token is needed: Authorization: Bearer TOKEN")
        with self.tongxin.unit() as unit:
            found = api_tokens.authenticate(unit, token.strip())
        if found is None:
            raise ApiError(401, "unknown or revoked API token")
        if write and found.scope != "write":
            raise ApiError(403, "this token is read-only (scope read): a write needs scope write")
        request.state.token_id = found.token_id
        return found

    def run(self, request: Request, work: Callable[[Unit], T], *, write: bool = False) -> T:
        """``work`` in one unit of work acting as the token's account (run again on a
        concurrent write); a refusal of the services becomes its HTTP error."""
        bearer = self.caller(request, write=write)
        try:
            return self.tongxin.run(work, actor=bearer.account, write=write)
        except ApiError:
            raise
        except (ValidationError, NotFound, Ambiguous, PermissionDenied, Conflict) as exc:
            raise _service_error(exc) from exc
        except Exception as exc:  # the client gets a bare 500, the log the kind of failure
            log.error("API request failed: %s", type(exc).__name__)
            raise ApiError(500, "internal error") from exc


def json_answer(request: Request, data: Any, status: int = 200) -> Response:
    """``data`` as JSON with a strong ETag (hash of the bytes); 304 when the request's
    ``If-None-Match`` has it."""
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    headers = {"ETag": etag, "Cache-Control": "private, no-cache"}
    inm = request.headers.get("if-none-match")
    if status == 200 and inm and etag in [t.strip().removeprefix("W/") for t in inm.split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(body, status_code=status, media_type="application/json", headers=headers)
