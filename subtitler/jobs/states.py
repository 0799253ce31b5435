"""Job statuses and which transitions are allowed."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


class JobType(StrEnum):
    TRANSCRIPTION = "transcription"
    TRANSLATION = "translation"
    ASR = "asr"
    LANGUAGE_DETECTION = "language_detection"
    SUBTITLE_TRANSLATION = "subtitle_translation"


class Task(StrEnum):
    TRANSCRIBE = "transcribe"
    TRANSLATE = "translate"


class Stage(StrEnum):
    LOADING_MODEL = "loading_model"
    EXTRACTING_AUDIO = "extracting_audio"
    READING_SUBTITLE = "reading_subtitle"
    DETECTING_LANGUAGE = "detecting_language"
    TRANSCRIBING = "transcribing"
    DIARIZING = "diarizing"  # who speaks when (subtitler.workers.diarize)
    TRANSLATING = "translating"
    WRITING = "writing"
    FINALIZING = "finalizing"


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
CANCELLABLE = frozenset({JobStatus.QUEUED, JobStatus.PROCESSING})
RETRYABLE = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})  # a cancel can be taken back

# No longer used to fail jobs: daemon restarts never count against a job (issue 14; crash_count).
MAX_RECOVERIES = 3

# Where a job came from (recorded on the job, filterable in GET /api/jobs).
CHANNELS: tuple[str, ...] = ("ui", "api", "scan", "watcher", "webhook", "asr", "openai")

# The variant of a forced subtitle job (issue 22): Film.eng.forced.srt, cues for the foreign
# passages only; rules and the scan history count it apart from the plain subtitle.
FORCED = "forced"
