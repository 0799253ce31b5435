"""Stand-ins for `worker_main` that speak the real pipe protocol (subtitler.workers.messages)
without a model: the supervisor, its pipe and the database are real. They run in spawned
processes, so they live in an importable module."""

from __future__ import annotations

import os
from multiprocessing.connection import Connection
from typing import Any

from subtitler.workers import messages as msg

FILM_CUES = 2_000  # an hour and a half of dialogue, with word timestamps: megabytes pickled


def film_document(cues: int = FILM_CUES) -> dict[str, Any]:
    """A cues document of a feature-length film (the shape of jobs.results.cues_document)."""
    words = [
        "the",
        "quick",
        "brown",
        "fox",
        "jumps",
        "over",
        "the",
        "lazy",
        "dog",
        "again",
        "and",
        "again",
    ]
    return {
        "language": "eng",
        "duration": cues * 3.6,
        "cues": [
            {"start": n * 3.6, "end": n * 3.6 + 3.0, "lines": [f"Line {n} " + " ".join(words)]}
            for n in range(cues)
        ],
        "segments": [
            {
                "start": n * 3.6,
                "end": n * 3.6 + 3.0,
                "text": " ".join(words),
                "words": [
                    [n * 3.6 + i * 0.25, n * 3.6 + i * 0.25 + 0.2, f" {w}{n}", 0.987654321]
                    for i, w in enumerate(words * 4)
                ],
            }
            for n in range(cues)
        ],
    }


def big_result_worker(
    conn: Connection, worker_id: str, device: str, device_index: int, log_level: str
) -> None:
    """Answers every RUN with the DONE of a film: several MB, far above a socket's buffer."""
    conn.send((msg.READY, {"pid": os.getpid()}))
    while True:
        try:
            kind, payload = conn.recv()
        except EOFError:
            return
        if kind == msg.STOP:
            return
        if kind != msg.RUN:
            continue
        job_id = payload["job"]["id"]
        document = film_document()
        conn.send((msg.PROGRESS, {"job_id": job_id, "progress": 50.0, "stage": "transcribing",
                                  "eta_seconds": 1.0, "fields": {}}))  # fmt: skip
        result = {
            "segments_count": len(document["cues"]),
            "speech_detected": True,
            "audio_duration": document["duration"],
            "stored_cues": document,
        }
        conn.send((msg.DONE, {"job_id": job_id, "result": result}))
