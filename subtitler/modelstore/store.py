"""Installing a catalog model into the models dir, and what is installed.

A download goes into `<root>/.download-<name>/` and is renamed to `<root>/<name>` only when every
file is there and verified, with `subtitler-model.json` recording repo, commit and hashes. The
partial folder stays after a failure so the next try resumes where it stopped; a file that
fails verification is deleted (it starts over), and nothing is ever half-installed.
"""

from __future__ import annotations

import json
import logging
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from subtitler.errors import SubtitlerError
from subtitler.modelstore.catalog import KINDS, Entry, Kind
from subtitler.modelstore.hub import Hub, HubError, RemoteFile

logger = logging.getLogger(__name__)

MANIFEST = "subtitler-model.json"
PARTIAL_PREFIX = ".download-"


class NoSpace(SubtitlerError):
    status = 507
    code = "insufficient_storage"


@dataclass
class Progress:
    total: int = 0
    done: int = 0
    file: str = ""

    @property
    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0


def installed_path(entry: Entry, models_dir: Path) -> Path:
    return KINDS[entry.kind].root(models_dir) / entry.name


def partial_path(entry: Entry, models_dir: Path) -> Path:
    return KINDS[entry.kind].root(models_dir) / f"{PARTIAL_PREFIX}{entry.name}"


def is_installed(entry: Entry, models_dir: Path) -> bool:
    path = installed_path(entry, models_dir)
    return all((path / name).is_file() for name in KINDS[entry.kind].required)


def disk_size(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def read_manifest(path: Path) -> dict[str, object]:
    try:
        data = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def plan(entry: Entry, hub: Hub) -> list[RemoteFile]:
    """The files to fetch: the wanted ones of the repo, then `extra` ones it lacks."""
    kind: Kind = KINDS[entry.kind]
    files = [f for f in hub.files(entry.repo, entry.revision) if kind.wanted.match(f.name)]
    names = {f.name for f in files}
    for repo, name in entry.extra:
        if name in names:
            continue
        found = [f for f in hub.files(repo) if f.name == name]
        if not found:
            raise HubError(f"{name} is not in {repo} on the hub")
        files.append(found[0])
        names.add(name)
    missing = [name for name in kind.required if name not in names]
    if missing:
        raise HubError(f"{entry.repo} has no {', '.join(missing)}: not a {kind.name} model")
    return files


def install(
    entry: Entry,
    models_dir: Path,
    *,
    on_progress: Callable[[Progress], None],
    cancelled: Callable[[], bool] = lambda: False,
    min_free_bytes: int = 0,
    hub: Hub | None = None,
) -> Path:
    """Download, verify and install `entry`; returns its folder. Raises HubError / NoSpace."""
    target = installed_path(entry, models_dir)
    if is_installed(entry, models_dir):
        return target
    own = hub is None
    hub = hub or Hub()
    try:
        files = plan(entry, hub)
        partial = partial_path(entry, models_dir)
        partial.mkdir(parents=True, exist_ok=True)
        progress = Progress(total=sum(f.size for f in files))
        for f in files:
            local = partial / f.name
            if local.exists():
                progress.done += min(local.stat().st_size, f.size)
        need = progress.total - progress.done
        free = shutil.disk_usage(partial).free
        if need + min_free_bytes > free:
            raise NoSpace(
                f"{entry.name} needs {need / 1e6:.0f} MB more, {free / 1e6:.0f} MB are free "
                f"(and {min_free_bytes / 1e6:.0f} MB must stay free)"
            )
        on_progress(progress)
        last = [0.0]

        def tick(n: int) -> None:
            progress.done += n
            now = time.monotonic()
            if now - last[0] >= 0.25:
                last[0] = now
                on_progress(progress)

        for f in files:
            progress.file = f.name
            local = partial / f.name
            hub.download(f, local, on_bytes=tick, cancelled=cancelled)
            problem = f.verify(local) if local.exists() else f"{f.name}: nothing was received"
            if problem is not None:
                progress.done -= local.stat().st_size if local.exists() else 0
                local.unlink(missing_ok=True)  # a wrong file starts over next time
                raise HubError(f"refused {entry.name}: {problem}")
        manifest = {
            "kind": entry.kind,
            "name": entry.name,
            "repo": entry.repo,
            "installed_at": datetime.now(UTC).isoformat(),
            "files": [
                {
                    "name": f.name,
                    "repo": f.repo,
                    "revision": f.revision,
                    "size": f.size,
                    "sha256": f.sha256,
                    "blob_id": f.blob_id,
                }
                for f in files
            ],
        }
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        if target.exists():  # an unusable leftover (a required file missing): replaced
            shutil.rmtree(target)
        partial.rename(target)
        progress.file = ""
        on_progress(progress)
        logger.info(
            "installed %s model %s from %s into %s", entry.kind, entry.name, entry.repo, target
        )
        return target
    finally:
        if own:
            hub.close()


def remove(entry: Entry, models_dir: Path) -> bool:
    """Delete an installed model and any partial download; True when something went."""
    gone = False
    for path in (installed_path(entry, models_dir), partial_path(entry, models_dir)):
        if path.exists():
            shutil.rmtree(path)
            gone = True
    return gone


_models_dir: Path | None = None


def set_models_dir(path: Path) -> None:
    """The daemon's models dir, for code that gets no settings snapshot (the API's checks)."""
    global _models_dir
    _models_dir = path


def models_dir_of(settings: object) -> Path | None:
    """`__models_dir__` of a worker's settings snapshot, else the daemon's."""
    get = getattr(settings, "get", None)
    value = get("__models_dir__") if callable(get) else None
    return Path(str(value)) if value else _models_dir


def installed_dirs(kind: Kind, models_dir: Path) -> list[Path]:
    """Installed models of a kind (own folder under its root; whisper: see workers.models)."""
    root = kind.root(models_dir)
    if not kind.subdir or not root.is_dir():
        return []
    return sorted(p for p in root.iterdir() if not p.name.startswith(".")
                  and all((p / name).is_file() for name in kind.required))  # fmt: skip


def installed_translation_models(models_dir: Path | None) -> list[Path]:
    """Installed catalog translation models, in catalog order (then any other folder)."""
    if models_dir is None:
        return []
    kind = KINDS["translation"]
    root = kind.root(models_dir)
    if not root.is_dir():
        return []
    order = {e.name: i for i, e in enumerate(kind.entries)}
    found = [
        p for p in root.iterdir() if not p.name.startswith(".") and (p / "model.bin").is_file()
    ]
    return sorted(found, key=lambda p: (order.get(p.name, len(order)), p.name))
