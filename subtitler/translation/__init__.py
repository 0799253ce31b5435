"""Subtitles in the viewer's language: translation providers, the translate stage of a job, the
subtitle_translation job, the cache, and the service behind /api/translation."""
