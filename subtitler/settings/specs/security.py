"""Host/Origin checks, proxies, body/upload/disk limits, worker cap, backups (issue 14).

Read by subtitler.api.guard (hosts, origins, body limits), subtitler.api.auth (proxy header),
subtitler.asr.upload and subtitler.security.disk (upload, free space, spool quota),
subtitler.workers.pool (worker cap), subtitler.security.paths (allowed paths) and
subtitler.security.dbhealth (integrity checks and backups).
"""

from __future__ import annotations

import re

from subtitler.security.paths import check_folder_list
from subtitler.settings.registry import SettingSpec

_HOST = re.compile(r"^(\*|\*?\.?[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\])$")
_ORIGIN = re.compile(r"^https?://[^/\s]+$")


def _check_hosts(values: list[str]) -> None:
    for item in values:
        if not _HOST.match(item):
            raise ValueError(f"{item!r} is not a host name (e.g. nas.local, .example.org or *)")


def _check_origins(values: list[str]) -> None:
    for item in values:
        if not _ORIGIN.match(item):
            raise ValueError(f"{item!r} is not an origin like https://media.example.org")


def _check_paths(values: list[str]) -> None:
    check_folder_list(values)


SPECS = [
    SettingSpec(
        key="allowed_hosts",
        category="general",
        value_type="list",
        default=[],
        check=_check_hosts,
        description=(
            "Extra host names the API answers to (Host header), besides IP addresses, localhost "
            "and this machine's names. '.example.org' allows its subdomains, '*' any host. "
            "Read by the API guard; other hosts get 400 unless the request carries the API key."
        ),
    ),
    SettingSpec(
        key="allowed_origins",
        category="general",
        value_type="list",
        default=[],
        check=_check_origins,
        description=(
            "Web origins (https://host[:port]) allowed to send state-changing requests without "
            "the API key. The UI's own origin is always allowed. Read by the API guard."
        ),
    ),
    SettingSpec(
        key="proxy_header",
        category="general",
        value_type="string",
        default="X-Forwarded-For",
        choices=("X-Forwarded-For", "X-Real-IP", "Forwarded"),
        description=(
            "The one header a trusted proxy sets to name the client; the others are ignored. "
            "Walked right to left over trusted_proxies. Read by the API's auth check."
        ),
    ),
    SettingSpec(
        key="max_json_body_kib",
        category="general",
        value_type="integer",
        default=1024,
        minimum=16,
        maximum=65536,
        description="Largest JSON request body in KiB (413 above). Read by the API guard.",
    ),
    SettingSpec(
        key="max_upload_mib",
        category="bazarr",
        value_type="integer",
        default=4096,
        minimum=1,
        maximum=1048576,
        description=(
            "Largest audio/video upload to /asr, /detect-language and /v1/audio in MiB (413 "
            "above). Read by subtitler.asr.upload."
        ),
    ),
    SettingSpec(
        key="max_form_fields",
        category="bazarr",
        value_type="integer",
        default=32,
        minimum=1,
        maximum=1000,
        description="Most multipart form fields per upload (400 above). Read by the upload reader.",
    ),
    SettingSpec(
        key="min_free_disk_mib",
        category="general",
        value_type="integer",
        default=1024,
        minimum=0,
        maximum=1048576,
        description=(
            "Free space the data folder keeps: uploads are refused with 507 below it and /health "
            "reports 'degraded: disk full'. Read by subtitler.security.disk."
        ),
    ),
    SettingSpec(
        key="spool_quota_mib",
        category="bazarr",
        value_type="integer",
        default=16384,
        minimum=1,
        maximum=1048576,
        description=(
            "Total size of uploads waiting in the spool (queued or running); a new upload that "
            "would pass it gets 507. Read by subtitler.security.disk."
        ),
    ),
    SettingSpec(
        key="max_workers",
        category="workers",
        value_type="integer",
        default=0,
        minimum=0,
        maximum=512,
        description=(
            "Most worker processes at once; 0 means twice the CPU cores. Adding more gets 400. "
            "Read by the worker pool."
        ),
    ),
    SettingSpec(
        key="allowed_paths",
        category="general",
        value_type="list",
        default=[],
        check=_check_paths,
        description=(
            "Folders besides library_paths whose files may get jobs (403 path_not_allowed for "
            "others). Read by subtitler.security.paths."
        ),
    ),
    SettingSpec(
        key="db_check_minutes",
        category="general",
        value_type="integer",
        default=60,
        minimum=1,
        maximum=10080,
        description="How often the database runs PRAGMA integrity_check for /health (minutes).",
    ),
    SettingSpec(
        key="db_backup_hours",
        category="general",
        value_type="integer",
        default=24,
        minimum=0,
        maximum=8760,
        description=(
            "How often an online backup of the SQLite database is written next to it "
            "(subtitler.db.bak-*; the newest 5 are kept); 0 turns it off."
        ),
    ),
]
