"""The one exception tree: services raise these, one API handler turns them into JSON."""

from __future__ import annotations


class SubtitlerError(Exception):
    """A domain error with a human `detail`, a machine `code` and the HTTP status it maps to."""

    status: int = 400
    code: str = "bad_request"

    def __init__(self, detail: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class BadRequest(SubtitlerError):
    status = 400
    code = "bad_request"


class Unprocessable(SubtitlerError):
    status = 422
    code = "unprocessable"


class Forbidden(SubtitlerError):
    status = 403
    code = "forbidden"


class NotFound(SubtitlerError):
    status = 404
    code = "not_found"


class Conflict(SubtitlerError):
    status = 409
    code = "conflict"


class Unauthorized(SubtitlerError):
    status = 401
    code = "unauthorized"


class ServiceUnavailable(SubtitlerError):
    status = 503
    code = "unavailable"


class PayloadTooLarge(SubtitlerError):
    status = 413
    code = "payload_too_large"


class InsufficientStorage(SubtitlerError):
    status = 507
    code = "insufficient_storage"
