"""Worker pool size, read by the worker pool at start (subtitler.workers)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS = [
    SettingSpec(
        key="worker_cpu_count",
        category="workers",
        value_type="integer",
        default=-1,
        minimum=-1,
        maximum=64,
        description=(
            "Number of CPU workers the pool starts with; -1 means automatic: one per CPU core "
            "(int8 inference does not scale past one thread, so two 1-thread workers beat one "
            "2-thread worker), at most one per 2 GB of RAM and at most 4. Written back by the "
            "Workers API."
        ),
    ),
    SettingSpec(
        key="worker_gpu_count",
        category="workers",
        value_type="integer",
        default=-1,
        minimum=-1,
        maximum=64,
        description=(
            "Number of GPU workers the pool starts with; -1 means one per visible GPU. "
            "Written back by the Workers API."
        ),
    ),
    SettingSpec(
        key="worker_idle_stop_seconds",
        category="workers",
        value_type="integer",
        default=300,
        minimum=0,
        maximum=86_400,
        description=(
            "A worker process without a job for this many seconds stops (its model and memory "
            "go with it); the worker stays in the pool as 'sleeping' and starts its process "
            "again when a job is queued (a second or two on CPU). With it set, the daemon "
            "launches its workers asleep: no worker process runs until there is work. 0 keeps "
            "worker processes running, from the launch on."
        ),
    ),
    SettingSpec(
        key="job_stall_seconds",
        category="workers",
        value_type="integer",
        default=900,
        minimum=0,
        maximum=86_400,
        advanced=True,
        description=(
            "A worker that reports no progress on its job for this many seconds is stuck: it is "
            "restarted and the job queued again, counted as a crash of that job (a job that "
            "crashes its worker twice fails). 0 turns the check off."
        ),
    ),
]
