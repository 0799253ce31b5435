"""HTTP: the app factory, auth, error handling and one router per area of the spec."""

from subtitler.api.app import create_app

__all__ = ["create_app"]
