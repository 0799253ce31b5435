"""Built-in settings, one module per category."""

from subtitler.settings.specs import (
    api,
    bazarr,
    cluster,
    diarization,
    general,
    integrations,
    interface,
    scanner,
    security,
    subtitles,
    transcription,
    translation,
    workers,
)

ALL_GROUPS = [
    general.SPECS,
    workers.SPECS,
    transcription.SPECS,
    subtitles.SPECS,
    scanner.SPECS,
    bazarr.SPECS,
    security.SPECS,
    api.SPECS,
    translation.SPECS,
    integrations.SPECS,
    cluster.SPECS,
    interface.SPECS,
    diarization.SPECS,
]
