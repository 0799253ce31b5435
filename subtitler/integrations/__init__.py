"""Media servers and *arr: import and playback triggers in, refresh and notifications out."""

from subtitler.integrations.service import IntegrationsService

__all__ = ["IntegrationsService"]
