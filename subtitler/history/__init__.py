"""Subtitle history: every subtitle file subtitler wrote (the written_subtitles record)."""

from subtitler.history.service import SubtitleHistory

__all__ = ["SubtitleHistory"]
