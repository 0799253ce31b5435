"""The library index and the Library page's service (issue 13)."""

from subtitler.library.index import LibraryIndex
from subtitler.library.service import LibraryService

__all__ = ["LibraryIndex", "LibraryService"]
