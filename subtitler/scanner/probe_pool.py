"""Probing in worker processes, for a scan with many new files (a first scan).

`av.open` holds the GIL for most of its ~0.8 ms a file, so threads do not add up; processes do.
The child function returns JSON text (a MediaInfo without sidecars, or the failure), which the
parent decodes in ~15 us and stores as it is. This module imports only the probe: a spawned child
stays light."""

from __future__ import annotations

import json

from subtitler.errors import SubtitlerError
from subtitler.media.probe import probe_file


def probe_paths(paths: list[str]) -> list[str]:
    """Per path, JSON text: a MediaInfo (`external_subtitles` empty: the parent has them) or
    `{"error_code": ..., "error": ...}` (see `subtitler.scanner.cache.decode`)."""
    out: list[str] = []
    for path in paths:
        try:
            out.append(probe_file(path, sidecars=[]).model_dump_json())
        except SubtitlerError as exc:
            out.append(json.dumps({"error_code": exc.code, "error": exc.detail}))
        except Exception as exc:  # a probe must never take a scan down
            detail = f"{type(exc).__name__}: {exc}"
            out.append(json.dumps({"error_code": "probe_failed", "error": detail}))
    return out
