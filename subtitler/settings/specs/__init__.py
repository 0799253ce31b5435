"""Built-in settings, one module per category."""

from subtitler.settings.specs import general, scanner, transcription, workers

ALL_GROUPS = [general.SPECS, workers.SPECS, transcription.SPECS, scanner.SPECS]
