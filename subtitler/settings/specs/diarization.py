"""Who is speaking (issue 24): the diarization stage (subtitler.workers.diarize) and the speaker
layout of cues (subtitler.subtitles.cues, subtitler.subtitles.formats)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

DEFAULT_PIPELINE = "pyannote/speaker-diarization-community-1"

SPECS = [
    SettingSpec(
        key="diarization_enabled",
        category="transcription",
        value_type="boolean",
        default=False,
        description=(
            "Tell speakers apart in every job (pyannote.audio, `pip install "
            "'subtitler[diarization]'`); a job's `diarize` overrides it. Costs time: see README."
        ),
    ),
    SettingSpec(
        key="diarization_pipeline",
        category="transcription",
        value_type="string",
        default=DEFAULT_PIPELINE,
        advanced=True,
        description=(
            "The pyannote.audio pipeline: a Hugging Face name (its terms accepted with the token's "
            "account) or a local folder holding its config.yaml, for offline machines."
        ),
    ),
    SettingSpec(
        key="huggingface_token",
        category="transcription",
        value_type="string",
        default="",
        secret=True,
        description="Hugging Face access token for gated diarization pipelines (read access).",
    ),
    SettingSpec(
        key="dual_speaker_dash",
        category="subtitles",
        value_type="string",
        default="-",
        advanced=True,
        description=(
            "Leads each line of a two-speaker cue ('-' in English, '- ' or '\u2013 ' elsewhere); "
            "empty: never two speakers in one cue."
        ),
    ),
    SettingSpec(
        key="srt_speaker_labels",
        category="subtitles",
        value_type="boolean",
        default=False,
        description="Write 'Speaker 1:' before a new speaker's SRT cue (diarized jobs).",
    ),
]
