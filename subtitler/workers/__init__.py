"""Workers: faster-whisper model resolution and the transcription engine a worker keeps warm."""
