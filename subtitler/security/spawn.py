"""Worker processes are spawned, and multiprocessing re-runs the parent's `__main__` script in
each child unless `__main__` names a module. An entry script without an
`if __name__ == "__main__"` guard (some generated console scripts, a test runner's wrapper) would
then run a second `subtitler serve`, or a whole test session, inside every worker. Naming
`subtitler.__main__` (a module spawn skips) makes children start clean whatever the entry was."""

from __future__ import annotations

import importlib.util
import sys


def make_spawn_safe() -> None:
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None:
        main.__spec__ = importlib.util.find_spec("subtitler.__main__")
