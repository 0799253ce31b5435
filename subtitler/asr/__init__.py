"""The ASR provider: Bazarr's /asr and /detect-language, and OpenAI-style transcriptions.

Uploads are streamed to a spool file and become high-priority queue jobs; the HTTP answer waits
for the job (with a heartbeat) and identical requests share one job and its cached result.
"""
