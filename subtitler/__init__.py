"""subtitler: a daemon that gives a home media library subtitles nobody had to write."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("subtitler")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+local"
