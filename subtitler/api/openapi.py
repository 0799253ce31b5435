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
        _html_root(schema)
        for create, param in LINKS.items():
            _link(schema, create=create, param=param)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


# Creating operations whose answer's `id` feeds the operations under them (OpenAPI links, so
# stateful tests and generators can follow them).
LINKS = {"/api/jobs": "job_id", "/api/scan-rules": "rule_id", "/api/tokens": "token_id"}


def _link(schema: dict[str, Any], *, create: str, param: str) -> None:
    paths = schema.get("paths", {})
    post = paths.get(create, {}).get("post")
    if post is None:
        return
    links: dict[str, Any] = {}
    for path, operations in paths.items():
        if not path.startswith(create + "/{" + param + "}"):
            continue
        for operation in operations.values():
            op_id = operation.get("operationId")
            if op_id:
                links[op_id] = {"operationId": op_id, "parameters": {param: "$response.body#/id"}}
    created = next((r for code, r in post["responses"].items() if code.startswith("2")), None)
    if created is not None and links:
        created["links"] = links


def _html_root(schema: dict[str, Any]) -> None:
    """`GET /` is the web UI's page when it is built, the JSON greeting otherwise."""
    root = schema.get("paths", {}).get("/", {}).get("get")
    if root is not None:
        content = root["responses"]["200"].setdefault("content", {})
        content["text/html"] = {"schema": {"type": "string"}}
