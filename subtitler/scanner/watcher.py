"""Watch library folders with watchdog: inotify, or polling (network shares, or no inotify).

Events arrive on watchdog's thread and are handed to the event loop with call_soon_threadsafe.
Created, modified and moved-in files go to the stability tracker; the scanner analyses them once
they are quiet. A file deleted or moved away is reported as gone (its queued job is cancelled).
Junk, partial downloads and non-media names are dropped at once; samples and `.subtitlerignore`
trees are checked when the file is settled (they need its size and the folder chain).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.polling import PollingObserver

from subtitler.scanner.stability import StabilityTracker
from subtitler.scanner.walker import WalkOptions, file_skip_reason, walk

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
GoneHandler = Callable[[str, str, bool], Awaitable[Any]]  # (path, reason, is_folder)


class _Handler(FileSystemEventHandler):
    def __init__(self, loop: asyncio.AbstractEventLoop, sink: Callable[..., None]) -> None:
        self._loop = loop
        self._sink = sink

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        dest = os.fsdecode(event.dest_path) if event.dest_path else ""
        self._loop.call_soon_threadsafe(
            self._sink, event.event_type, os.fsdecode(event.src_path), dest, event.is_directory
        )


class LibraryWatcher:
    def __init__(
        self,
        *,
        quiet_seconds: Callable[[], float],
        options: Callable[[], WalkOptions],
        on_stable: Callable[[str], Awaitable[None]],
        on_gone: GoneHandler,
    ) -> None:
        self._options = options
        self._on_gone = on_gone
        self.tracker = StabilityTracker(quiet_seconds=quiet_seconds, on_stable=on_stable)
        self._observer: Any = None
        self.paths: list[str] = []
        self.recursive = True
        self.mode: str | None = None  # inotify | polling
        self._tasks: set[asyncio.Task[Any]] = set()

    @property
    def running(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    async def start(self, paths: Sequence[str], *, recursive: bool, polling: bool) -> str:
        """(Re)start on `paths`; returns the mode used. Paths are checked folders."""
        await self.stop()
        loop = asyncio.get_running_loop()
        handler = _Handler(loop, self._dispatch)
        observer, mode = await asyncio.to_thread(
            self._observe, handler, list(paths), recursive, polling
        )
        self._observer, self.mode = observer, mode
        self.paths, self.recursive = list(paths), recursive
        self.tracker.start()
        logger.info("watching %s (%s)", ", ".join(self.paths), mode)
        return mode

    @staticmethod
    def _observe(handler: _Handler, paths: list[str], recursive: bool, polling: bool) -> Any:
        if not polling:
            observer: Any = Observer()
            try:
                for path in paths:
                    observer.schedule(handler, path, recursive=recursive)
                observer.start()
                return observer, "inotify"
            except OSError as exc:  # no inotify, or out of watches: poll instead
                logger.warning("inotify unavailable (%s); polling the library instead", exc)
                observer.unschedule_all()
        observer = PollingObserver(timeout=POLL_SECONDS)
        for path in paths:
            observer.schedule(handler, path, recursive=recursive)
        observer.start()
        return observer, "polling"

    async def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is not None:
            observer.stop()
            await asyncio.to_thread(observer.join, 5)
            logger.info("file watcher stopped")
        await self.tracker.stop()
        for task in list(self._tasks):
            task.cancel()
        self.paths, self.mode = [], None

    # --- events (on the loop) -------------------------------------------------------------
    def _root_of(self, path: str) -> str | None:
        for root in self.paths:
            if path == root or path.startswith(root.rstrip("/") + "/"):
                return root
        return None

    def _dispatch(self, kind: str, src: str, dest: str, is_dir: bool) -> None:
        if self._observer is None:
            return
        if kind == "moved":
            if self._root_of(src) is not None:
                self._gone(src, f"moved away to {dest}", is_dir)
            if self._root_of(dest) is not None:
                self._arrived(dest, is_dir)
        elif kind == "deleted":
            self._gone(src, "deleted", is_dir)
        elif kind in ("created", "modified", "closed") and not (is_dir and kind != "created"):
            # a folder's own "modified" (an entry added or removed) says nothing new: its files
            # report themselves; a created folder is walked (files may land before its watch)
            self._arrived(src, is_dir)

    def _arrived(self, path: str, is_dir: bool) -> None:
        if is_dir:  # a folder moved or copied in: its files (also reported one by one on copy)
            self._spawn(self._arrived_tree(path))
            return
        root = self._root_of(path)
        if root is None:
            return
        # names only here (size unknown yet): samples are checked once the file is settled
        if file_skip_reason(path, size=1 << 62, options=self._options(), root=root) is None:
            self.tracker.touch(path)

    async def _arrived_tree(self, folder: str) -> None:
        options = self._options()
        found = await asyncio.to_thread(lambda: [c.path for c in walk([folder], options=options)])
        for path in found:
            self.tracker.touch(path)

    def _gone(self, path: str, reason: str, is_dir: bool) -> None:
        self.tracker.forget(path, tree=True)
        self._spawn(self._on_gone(path, reason, is_dir))

    def _spawn(self, coro: Awaitable[Any]) -> None:
        async def run() -> None:
            try:
                await coro
            except Exception:
                logger.exception("watcher event handling failed")

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
