"""Hardening services: host checks, the data-dir lock, disk limits, allowed paths, DB health."""
