"""Built-in settings, one module per category."""

from subtitler.settings.specs import bazarr, general, scanner, subtitles, transcription, workers

ALL_GROUPS = [
    general.SPECS,
    workers.SPECS,
    transcription.SPECS,
    subtitles.SPECS,
    scanner.SPECS,
    bazarr.SPECS,
]
