"""One place that turns exceptions into JSON bodies with `detail` (and `code`)."""

from __future__ import annotations

import logging
import math
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from subtitler.api.failures import reply_for_exception
from subtitler.errors import SubtitlerError

logger = logging.getLogger(__name__)

MAX_ECHO_CHARS = 200  # a 422 never repeats more of the client's value than this
MAX_ERRORS = 20


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(SubtitlerError)
    async def _domain(_: Request, exc: SubtitlerError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail, "code": exc.code}, status_code=exc.status)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        detail = exc.detail
        if exc.status_code == 404 and detail == "Not Found":
            detail = "Not found"
        return JSONResponse(
            {"detail": detail, "code": _code_for(exc.status_code)},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's 422 shape: detail is the list of errors, each made JSON-safe and short.
        raw = list(exc.errors())
        errors = [_safe_error(err) for err in raw[:MAX_ERRORS]]
        if len(raw) > MAX_ERRORS:
            errors.append({"type": "too_many_errors", "loc": [], "msg": f"{len(raw)} errors"})
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        status, detail, code = reply_for_exception(exc, request.scope)
        return JSONResponse({"detail": detail, "code": code}, status_code=status)


def _short(value: Any) -> Any:
    """A JSON-safe, bounded rendering of anything a client sent."""
    if value is None or isinstance(value, bool | int):
        return value if not isinstance(value, int) or abs(value) < 2**63 else str(value)[:40]
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, bytes):
        value = value[:MAX_ECHO_CHARS].decode("utf-8", "replace")
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= MAX_ECHO_CHARS else text[:MAX_ECHO_CHARS] + "..."


def _safe_error(err: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in dict(err).items():
        if key == "loc":
            out["loc"] = [v if isinstance(v, int) else _short(v) for v in value]
        elif key == "ctx" and isinstance(value, dict):
            out["ctx"] = {str(k): _short(str(v)) for k, v in value.items()}
        elif key == "input":
            if isinstance(value, dict | list):
                continue  # a whole body: never echoed
            out["input"] = _short(value)
        elif key in ("type", "msg"):
            out[key] = _short(value)
    return out


def _code_for(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "payload_too_large",
        415: "unsupported_media_type",
        422: "unprocessable",
        503: "unavailable",
        507: "insufficient_storage",
    }.get(status, "error")
