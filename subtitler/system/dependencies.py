"""The versions of the Python packages the daemon runs on, next to the lock they came from.

`scripts/install` (and the images) install requirements/<set>.txt, made by `scripts/lock`, and
leave a copy of it in the environment: `<sys.prefix>/subtitler-lock.txt`, its first line naming
the file. A bug report then names exact versions: `subtitler version --verbose` and
GET /api/system/about show each locked package's locked and installed version, and whether they
agree.
An environment not made by the install script (a plain `pip install subtitler`) has no copy: then
the versions of the package's own requirements are reported, with no lock to compare against.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

STAMP_NAME = "subtitler-lock.txt"

# `name==version` at the start of a line, then an optional `; marker`, then an optional `\`.
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*(.*?))?\s*\\?\s*$")
_HEADER = re.compile(r"^# installed from (\S+?):")


@dataclass(frozen=True)
class LockedPackage:
    name: str  # normalised (PEP 503): lower case, runs of -_. as one -
    version: str
    marker: str | None  # PEP 508 environment marker, None when it applies everywhere


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_lock(text: str) -> list[LockedPackage]:
    """The pinned packages of a `uv pip compile` requirements file (hashes, comments skipped)."""
    packages = []
    for line in text.splitlines():
        match = _PIN.match(line)
        if match:
            name, version, marker = match.groups()
            packages.append(LockedPackage(normalise(name), version, marker or None))
    return packages


def applies(package: LockedPackage) -> bool:
    """Whether the package's marker holds on this interpreter and platform."""
    if package.marker is None:
        return True
    from packaging.markers import Marker

    return bool(Marker(package.marker).evaluate())


def installed_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def stamp_path(prefix: str | None = None) -> Path:
    return Path(prefix or sys.prefix) / STAMP_NAME


def lock_report(stamp: Path | None = None) -> dict[str, Any]:
    """{"lock": file or None, "matches_lock": bool or None, "packages": {name: {...}}}.

    With a lock: every package of it that applies here, with "locked" and "installed" versions
    (installed None when missing), and "differs": the names where they disagree.
    Without: the installed versions of subtitler's own requirements ("locked" absent).
    """
    stamp = stamp or stamp_path()
    if stamp.is_file():
        text = stamp.read_text()
        header = _HEADER.match(text.splitlines()[0] if text else "")
        packages: dict[str, dict[str, str | None]] = {}
        for package in parse_lock(text):
            if applies(package):
                packages[package.name] = {
                    "locked": package.version,
                    "installed": installed_version(package.name),
                }
        differs = sorted(n for n, v in packages.items() if v["locked"] != v["installed"])
        return {
            "lock": header.group(1) if header else str(stamp),
            "matches_lock": not differs,
            "differs": differs,
            "packages": packages,
        }
    own: dict[str, dict[str, str | None]] = {}
    try:
        requirements = metadata.requires("subtitler") or []
    except metadata.PackageNotFoundError:  # running from a source tree that was never installed
        requirements = []
    for requirement in requirements:
        if "extra ==" in requirement:
            continue
        name = normalise(re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0])
        own[name] = {"installed": installed_version(name)}
    return {
        "lock": None,
        "matches_lock": None,
        "differs": [],
        "packages": dict(sorted(own.items())),
    }
