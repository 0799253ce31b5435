"""The supervisor's end of a worker process's pipe: whole messages, whatever the event loop does.

A dedicated thread reads the pipe with blocking reads and hands each complete message to the
event loop's queue. The descriptor is never registered with the loop: uvloop's `add_reader()`
puts a descriptor in O_NONBLOCK, and a blocking `Connection.recv()` on it then raises
BlockingIOError in the middle of any message larger than the socket buffer (the DONE of a film,
with its cues, is megabytes) - which looked like the worker's death.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import pickle
import socket
import threading
from multiprocessing.connection import Connection
from typing import Any

logger = logging.getLogger(__name__)

EOF_MESSAGE: tuple[str, Any] = ("eof", None)
JOIN_SECONDS = 5.0


class WorkerChannel:
    """Reads `(kind, payload)` messages from `conn` on a thread into `inbox` (then EOF_MESSAGE
    once, when the other end is gone); sends on the caller's thread."""

    def __init__(
        self,
        conn: Connection,
        inbox: asyncio.Queue[tuple[str, Any]],
        *,
        loop: asyncio.AbstractEventLoop,
        name: str,
    ) -> None:
        self._conn = conn
        self._inbox = inbox
        self._loop = loop
        self._closed = False
        os.set_blocking(conn.fileno(), True)  # whoever had it before, reads and writes block
        self._thread = threading.Thread(target=self._read, name=f"{name}-reader", daemon=True)
        self._thread.start()

    @property
    def reading(self) -> bool:
        """True until the reader has seen the end of the pipe (every message is delivered)."""
        return self._thread.is_alive()

    def _deliver(self, message: tuple[str, Any]) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody is listening
            self._loop.call_soon_threadsafe(self._inbox.put_nowait, message)

    def _read(self) -> None:
        try:
            while True:
                data = self._conn.recv_bytes()
                try:
                    message = pickle.loads(data)
                except Exception:  # one bad message; the framing is intact, so read on
                    logger.exception("unreadable message from a worker (%d bytes)", len(data))
                    continue
                self._deliver(message)
        except (EOFError, OSError, ValueError):  # closed by us, or the process is gone
            pass
        finally:
            self._deliver(EOF_MESSAGE)

    def send(self, message: tuple[str, Any]) -> bool:
        """Send one message; False when the pipe is broken (the reader reports the EOF)."""
        if self._closed:
            return False
        try:
            self._conn.send(message)
        except (OSError, ValueError):
            return False
        return True

    def close(self) -> None:
        """Stop the reader and close the pipe. The socket is shut down first, which wakes a
        blocked read; the descriptor is closed only once the reader has let go of it (a number
        closed under a reading thread could be reused by another file)."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(OSError, ValueError):
            sock = socket.socket(fileno=os.dup(self._conn.fileno()))
            with sock:
                sock.shutdown(socket.SHUT_RDWR)
        if self._thread is not threading.current_thread():
            self._thread.join(JOIN_SECONDS)
        if self._thread.is_alive():  # never seen: leave the descriptor open rather than reuse it
            logger.warning("%s did not stop; its pipe is left open", self._thread.name)
            return
        self._conn.close()
