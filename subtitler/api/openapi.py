"""The OpenAPI document a client generator can trust: every route declares its error responses
with the error model (passed to include_router, so other routers get them too), and the upload
routes (which stream their multipart body themselves) declare that body so /docs can upload."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from subtitler.api.schemas_jobs import ErrorOut

_ERROR = {"model": ErrorOut}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {**_ERROR, "description": "Bad request"},
    401: {**_ERROR, "description": "Missing or invalid API key"},
    403: {**_ERROR, "description": "The token's scope does not allow this route"},
    404: {**_ERROR, "description": "Not found"},
    409: {**_ERROR, "description": "Conflict with the current state"},
    422: {**_ERROR, "description": "Validation error"},
    500: {**_ERROR, "description": "Internal error"},
    503: {**_ERROR, "description": "Unavailable"},
    507: {**_ERROR, "description": "Not enough disk space"},
}

_AUDIO = {"type": "string", "format": "binary"}
UPLOADS: dict[str, dict[str, Any]] = {
    "/asr": {"required": ["audio_file"], "properties": {"audio_file": _AUDIO}},
    "/detect-language": {"required": ["audio_file"], "properties": {"audio_file": _AUDIO}},
}
_OPENAI_FORM = {
    "required": ["file"],
    "properties": {
        "file": _AUDIO,
        "model": {"type": "string", "description": "fast/balanced/best or a model name"},
        "language": {"type": "string"},
        "prompt": {"type": "string"},
        "response_format": {
            "type": "string",
            "enum": ["json", "text", "srt", "verbose_json", "vtt"],
        },
        "temperature": {"type": "number"},
    },
}
UPLOADS["/v1/audio/transcriptions"] = _OPENAI_FORM
UPLOADS["/v1/audio/translations"] = _OPENAI_FORM


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path, form in UPLOADS.items():
            operation = schema.get("paths", {}).get(path, {}).get("post")
            if operation is not None:
                operation["requestBody"] = {
                    "required": True,
                    "content": {"multipart/form-data": {"schema": {"type": "object", **form}}},
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
