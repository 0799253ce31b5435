"""One place that turns exceptions into JSON bodies with `detail` (and `code`)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from subtitler.errors import SubtitlerError

logger = logging.getLogger(__name__)


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
        # FastAPI's 422 shape: detail is the list of errors.
        errors = [{k: v for k, v in err.items() if k != "ctx"} for err in exc.errors()]
        for err, original in zip(errors, exc.errors(), strict=False):
            if "ctx" in original:
                err["ctx"] = {k: str(v) for k, v in original["ctx"].items()}
        # The input may be raw bytes (a body that is not JSON): never a 500 for a bad request.
        return JSONResponse({"detail": jsonable_encoder(errors, custom_encoder=_BYTES)},
                            status_code=422)  # fmt: skip

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            {"detail": f"Internal server error: {type(exc).__name__}", "code": "internal_error"},
            status_code=500,
        )


_BYTES = {bytes: lambda b: b.decode("utf-8", "replace")}


def _code_for(status: int) -> str:
    return {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        422: "unprocessable",
        503: "unavailable",
    }.get(status, "error")
