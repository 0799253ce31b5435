"""The first-run setup wizard."""

from subtitler.setup.service import SetupService

__all__ = ["SetupService"]
