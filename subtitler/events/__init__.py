"""In-process event bus feeding server-sent events and the daemon's own listeners."""

from subtitler.events.bus import Event, EventBus

__all__ = ["Event", "EventBus"]
