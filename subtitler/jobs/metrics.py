"""Prometheus metrics (prometheus-client): histograms observed as jobs finish and scans end,
and gauges read from the database and the worker pool at scrape time.

Histograms are process-wide (one daemon per process); the state collector belongs to a daemon
and joins a fresh registry per scrape, so several daemons in one test process do not clash.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from subtitler.events import Event

JOB_SECONDS = Histogram(
    "subtitler_job_duration_seconds", "Wall time of completed transcription jobs",
    buckets=(5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200), registry=None,
)  # fmt: skip
REALTIME_FACTOR = Histogram(
    "subtitler_job_realtime_factor", "Processing time divided by audio duration (lower is faster)",
    buckets=(0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0), registry=None,
)  # fmt: skip
SCAN_SECONDS = Histogram(
    "subtitler_scan_duration_seconds", "Duration of library scans",
    buckets=(0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600), registry=None,
)  # fmt: skip
ASR_REQUESTS = Counter(
    "subtitler_asr_requests", "Requests to the Bazarr (/asr, /detect-language) and OpenAI-style "
    "(/v1/audio) routes, answered from a new job, a running one or the result cache",
    ["kind", "channel"], registry=None,
)  # fmt: skip


def observe_job(*, processing_seconds: float | None, audio_seconds: float | None) -> None:
    if processing_seconds is None:
        return
    JOB_SECONDS.observe(processing_seconds)
    if audio_seconds:
        REALTIME_FACTOR.observe(processing_seconds / audio_seconds)


def count_asr_request(*, kind: str, channel: str) -> None:
    ASR_REQUESTS.labels(kind=kind, channel=channel).inc()


def on_event(event: Event) -> None:
    """Bus hook: scan durations."""
    if event.type == "scan_finished":
        seconds = event.data.get("duration_seconds")
        if isinstance(seconds, int | float):
            SCAN_SECONDS.observe(seconds)


class StateCollector(Collector):
    """Jobs by status and channel, queue depth and oldest queued job, worker states."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self._snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        snap = self._snapshot
        jobs = GaugeMetricFamily(
            "subtitler_jobs",
            "Jobs in the database by status and channel",
            labels=["status", "channel"],
        )
        for (status, channel), count in sorted(snap["jobs"].items()):
            jobs.add_metric([status, channel], count)
        yield jobs
        yield GaugeMetricFamily("subtitler_queue_depth", "Queued jobs", value=snap["queued"])
        yield GaugeMetricFamily(
            "subtitler_oldest_queued_job_age_seconds", "Age of the oldest queued job (0: none)",
            value=snap["oldest_age"],
        )  # fmt: skip
        workers = GaugeMetricFamily(
            "subtitler_workers", "Workers by type and state", labels=["type", "state"]
        )
        for (kind, state), count in sorted(snap["workers"].items()):
            workers.add_metric([kind, state], count)
        yield workers


def render(snapshot: dict[str, Any]) -> bytes:
    registry = CollectorRegistry(auto_describe=False)
    for collector in (JOB_SECONDS, REALTIME_FACTOR, SCAN_SECONDS, ASR_REQUESTS):
        registry.register(collector)
    registry.register(StateCollector(snapshot))
    return generate_latest(registry)


def age_seconds(created_epoch: float | None) -> float:
    return max(0.0, time.time() - created_epoch) if created_epoch else 0.0
