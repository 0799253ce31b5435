"""Subtitles: readable cues from word timestamps, formats, file naming and the atomic writer."""
