"""Stream a multipart upload straight into a spool file, hashing it on the way.

The body is drained as fast as the client sends it, whatever the workers are doing, and never
held in memory: one 64 KiB chunk at a time goes to disk.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from subtitler.errors import BadRequest, SubtitlerError
from subtitler.security.disk import UploadBudget

MAX_FIELD_BYTES = 64 * 1024
MAX_FIELDS = 32
MAX_HEADER_BYTES = 8 * 1024
SPOOL_PREFIX = "upload-"


@dataclass
class Upload:
    path: Path | None = None
    sha256: str = ""
    size: int = 0
    filename: str | None = None
    fields: dict[str, str] = field(default_factory=dict)

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)
            self.path = None


class _Receiver:
    """Callbacks for python-multipart: the file part to disk, the other parts to `fields`."""

    def __init__(
        self,
        spool_dir: Path,
        file_fields: tuple[str, ...],
        *,
        budget: UploadBudget | None = None,
        max_fields: int = MAX_FIELDS,
    ) -> None:
        self.spool_dir = spool_dir
        self.file_fields = file_fields
        self.budget = budget
        self.max_fields = max_fields
        self._parts = 0
        self.upload = Upload()
        self._digest = hashlib.sha256()
        self._header_name = b""
        self._header_value = b""
        self._headers: dict[bytes, bytes] = {}
        self._name: str | None = None
        self._is_file = False
        self._value = bytearray()
        self._out: IO[bytes] | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._part_begin,
            "on_header_field": self._header_field,
            "on_header_value": self._header_value_cb,
            "on_header_end": self._header_end,
            "on_headers_finished": self._headers_finished,
            "on_part_data": self._part_data,
            "on_part_end": self._part_end,
        }

    def _part_begin(self) -> None:
        self._headers, self._name, self._is_file = {}, None, False
        self._value = bytearray()
        self._parts += 1
        if self._parts > self.max_fields:
            raise BadRequest(
                f"too many form fields (at most {self.max_fields})", code="too_many_fields"
            )

    def _header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]
        self._check_header()

    def _header_value_cb(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]
        self._check_header()

    def _check_header(self) -> None:
        if len(self._header_name) + len(self._header_value) > MAX_HEADER_BYTES:
            raise BadRequest("a form part header is too large", code="field_too_large")

    def _header_end(self) -> None:
        if len(self._headers) >= 16:
            raise BadRequest("a form part has too many headers", code="field_too_large")
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def _headers_finished(self) -> None:
        _, params = parse_options_header(self._headers.get(b"content-disposition", b""))
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        is_file_field = self._name in self.file_fields
        if is_file_field and self._out is None:
            self._is_file = True
            filename = params.get(b"filename")
            self.upload.filename = filename.decode("utf-8", "replace") if filename else None
            self.spool_dir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix=SPOOL_PREFIX, dir=self.spool_dir)
            self._out = os.fdopen(fd, "wb")
            self.upload.path = Path(name)

    def _part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        if self._is_file and self._out is not None:
            self._out.write(chunk)
            self._digest.update(chunk)
            self.upload.size += len(chunk)
            if self.budget is not None:
                self.budget.during(self.upload.size)
        else:
            self._value += chunk
            if len(self._value) > MAX_FIELD_BYTES:
                shown = (self._name or "")[:40]
                raise BadRequest(f"form field {shown!r} is too large", code="field_too_large")

    def _part_end(self) -> None:
        if self._is_file and self._out is not None:
            self._out.close()
        elif self._name:
            self.upload.fields[self._name] = self._value.decode("utf-8", "replace")
        self._is_file = False

    def finish(self) -> Upload:
        if self._out is not None and not self._out.closed:
            self._out.close()
        self.upload.sha256 = self._digest.hexdigest()
        return self.upload


async def receive_upload(
    request: Request,
    *,
    spool_dir: Path,
    file_fields: tuple[str, ...],
    budget: UploadBudget | None = None,
    max_fields: int = MAX_FIELDS,
) -> Upload:
    """Read the whole multipart body; the first part named in `file_fields` goes to disk,
    within `budget` (size, free-space floor, spool quota: 413 / 507)."""
    content_type, params = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data" or b"boundary" not in params:
        raise BadRequest(
            "send the audio as multipart/form-data with a file part named "
            + " or ".join(repr(f) for f in file_fields),
            code="not_multipart",
        )
    if budget is not None:
        length = request.headers.get("content-length", "")
        budget.before(int(length) if length.isdigit() else None)
    receiver = _Receiver(spool_dir, file_fields, budget=budget, max_fields=max_fields)
    parser = MultipartParser(params[b"boundary"], receiver.callbacks())  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            parser.write(chunk)
        parser.finalize()
    except ClientDisconnect:
        receiver.finish().discard()
        raise BadRequest("the client went away during the upload", code="upload_aborted") from None
    except SubtitlerError:
        receiver.finish().discard()
        raise
    except Exception as exc:
        receiver.finish().discard()
        if isinstance(exc, OSError) and exc.errno is not None:
            raise  # a full disk is the server's problem (507 via subtitler.api.failures)
        reason = str(exc)[:200]
        raise BadRequest(f"malformed multipart body: {reason}", code="bad_multipart") from None
    upload = receiver.finish()
    if upload.path is None:
        raise BadRequest(
            "no file part named " + " or ".join(repr(f) for f in file_fields),
            code="missing_file",
        )
    if upload.size == 0:
        upload.discard()
        raise BadRequest("the uploaded file is empty", code="empty_upload")
    return upload


async def receive_bounded_upload(
    request: Request,
    *,
    spool_dir: Path,
    file_fields: tuple[str, ...],
    settings: Callable[[str], Any],
) -> Upload:
    """`receive_upload` within the settings' limits: max_upload_mib (413), min_free_disk_mib and
    spool_quota_mib (507), max_form_fields (400)."""
    return await receive_upload(
        request,
        spool_dir=spool_dir,
        file_fields=file_fields,
        budget=UploadBudget(spool_dir=spool_dir, settings=settings),
        max_fields=int(settings("max_form_fields")),
    )
