"""Nodes, leases and duties across machines (issue 11)."""

from __future__ import annotations

from subtitler.settings.registry import SettingSpec

SPECS: list[SettingSpec] = [
    SettingSpec(
        key="cluster_lease_seconds",
        category="cluster",
        value_type="integer",
        default=60,
        minimum=3,
        maximum=3600,
        description=(
            "PostgreSQL clusters only: a node that has not sent a heartbeat for this long is "
            "taken for dead; any live node puts its running jobs back in the queue (counting "
            "recovered_count) and another full node takes over the scheduler and watcher. Read "
            "by subtitler.cluster on every heartbeat (a quarter of this)."
        ),
    ),
]
