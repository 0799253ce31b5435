"""The settings a household meets in front on the Settings page; every other user-facing setting
(network, security, limits, database, tuning) is `advanced`, shown behind the "Advanced" switch.

One list here rather than a flag in each spec module, so a new setting starts behind Advanced
until someone decides a household needs it.
"""

from __future__ import annotations

EVERYDAY: frozenset[str] = frozenset(
    {
        # library folders and when they are scanned
        "library_paths",
        "scanner_schedule_enabled",
        "scanner_cron_expression",
        "scanner_interval_minutes",
        "scanner_watcher_enabled",
        "scanner_unknown_language_policy",
        # languages and quality
        "preferred_audio_languages",
        "default_quality_preset",
        "model_download",
        # workers
        "worker_cpu_count",
        "worker_gpu_count",
        # the subtitle files
        "subtitle_format",
        "subtitle_language_style",
        "subtitle_provenance_tag",
        "overwrite_existing_subtitles",
        "strip_sound_annotations",
        "max_cps",
        # translation (the provider's own fields are shown by the translation panel)
        "translation_provider",
        "translation_english_via",
        "translation_prefer_subtitles",
        # Bazarr and the other apps
        "asr_quality_preset",
        "path_mappings",
        "webhook_playback_enabled",
        "media_server_refresh",
        "apprise_urls",
        "apprise_on_completed",
        # who may use subtitler
        "auth_mode",
        "api_key",
    }
)
