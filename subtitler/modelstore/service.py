"""What the Models view and the wizard ask: every catalog model with installed / size / in use /
download state, a download started in the background (progress as `model_download` events on
the event stream), and deleting one. Routes stay thin; this holds the logic."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from subtitler.errors import Conflict, NotFound, SubtitlerError
from subtitler.events import EventBus
from subtitler.media.languages import require_language
from subtitler.modelstore import store
from subtitler.modelstore.catalog import KINDS, TRANSLATION, Entry, entry, translation_for
from subtitler.settings.specs.transcription import QUALITY_PRESETS
from subtitler.workers.models import available_models

logger = logging.getLogger(__name__)

EVENT = "model_download"
MIB = 1024 * 1024


class SettingsLike(Protocol):
    def get(self, key: str) -> Any: ...


@dataclass
class Download:
    entry: Entry
    state: str = "downloading"  # downloading | failed | done
    progress: store.Progress | None = None
    error: str | None = None
    code: str | None = None
    task: asyncio.Task[None] | None = None
    cancel: bool = False

    def out(self) -> dict[str, Any]:
        p = self.progress
        return {
            "state": self.state,
            "bytes_done": p.done if p else 0,
            "bytes_total": p.total if p else 0,
            "progress": round(p.fraction, 4) if p else 0.0,
            "file": p.file if p else "",
            "error": self.error,
            "code": self.code,
        }


class ModelsService:
    def __init__(self, models_dir: Path, settings: SettingsLike, bus: EventBus) -> None:
        self.models_dir = models_dir
        self._settings = settings
        self._bus = bus
        self._downloads: dict[tuple[str, str], Download] = {}
        store.set_models_dir(models_dir)

    # -- listing ---------------------------------------------------------------------------
    def _in_use(self, kind: str, name: str, installed: list[str]) -> list[str]:
        """What uses the model: presets (whisper), the translation provider (translation)."""
        if kind == "whisper":
            return [
                f"preset {p}"
                for p in QUALITY_PRESETS
                if str((self._settings.get(f"preset_{p}") or {}).get("model")) == name
            ]
        if kind == "translation":
            if str(self._settings.get("translation_provider")) != "ctranslate2":
                return []
            configured = str(self._settings.get("ctranslate2_model_dir") or "").strip()
            if configured == name or (not configured and name in installed):
                return ["translation provider ctranslate2"]
        return []

    def listing(self) -> dict[str, Any]:
        models: list[dict[str, Any]] = []
        whisper = {m.name: m for m in available_models(models_dir=self.models_dir)}
        translation = {p.name: p for p in store.installed_translation_models(self.models_dir)}
        for kind in KINDS.values():
            if kind.name == "whisper":
                names = list(whisper)
            elif kind.name == "translation":
                names = list(translation)
            else:  # another kind (diarization): its own folders
                names = [p.name for p in store.installed_dirs(kind, self.models_dir)]
            seen = set()
            for e in kind.entries:
                seen.add(e.name)
                models.append(self._row(e, whisper=whisper, translation=translation, names=names))
            for extra in names:  # installed by hand, not in the catalog
                if extra not in seen:
                    stub = Entry(
                        kind=kind.name,
                        name=extra,
                        repo="",
                        size_bytes=0,
                        description="installed by hand",
                    )
                    models.append(
                        self._row(stub, whisper=whisper, translation=translation, names=names)
                    )
        free = shutil.disk_usage(
            self.models_dir if self.models_dir.exists() else self.models_dir.parent
        ).free
        return {
            "models": models,
            "download_allowed": self.download_allowed(),
            "free_bytes": free,
            "models_dir": str(self.models_dir),
        }

    def _row(
        self, e: Entry, *, whisper: dict[str, Any], translation: dict[str, Path], names: list[str]
    ) -> dict[str, Any]:
        path: Path | None = None
        source = None
        if e.kind == "whisper" and e.name in whisper:
            path, source = whisper[e.name].path, whisper[e.name].source
        elif e.kind == "translation" and e.name in translation:
            path, source = translation[e.name], "models_dir"
        elif e.kind not in ("whisper", "translation") and e.name in names:
            path, source = store.installed_path(e, self.models_dir), "models_dir"
        installed = path is not None
        # PyPI-carried and hub-cache models are not ours to delete; the models dir's are
        deletable = installed and source == "models_dir"
        download = self._downloads.get((e.kind, e.name))
        return {
            "kind": e.kind,
            "name": e.name,
            "description": e.description,
            "repo": e.repo or None,
            "family": e.family or None,
            "license": e.license or None,
            "languages": list(e.languages),
            "any_language": e.any_language,
            "pair": list(e.pair) if e.pair else None,
            "size_bytes": (store.disk_size(path) if installed and path else 0) or e.size_bytes,
            "installed": installed,
            "source": source,
            "deletable": deletable,
            "in_catalog": bool(e.repo),
            "in_use": self._in_use(e.kind, e.name, names if installed else []),
            "download": download.out() if download else None,
        }

    # -- downloads -------------------------------------------------------------------------
    def download_allowed(self) -> bool:
        return bool(self._settings.get("model_download"))

    def _entry(self, kind: str, name: str) -> Entry:
        found = entry(kind, name)
        if found is None:
            raise NotFound(f"no {kind} model named {name!r} in the catalog", code="unknown_model")
        return found

    def start_download(self, kind: str, name: str, *, use: bool = False) -> dict[str, Any]:
        """Start downloading; with `use`, a translation model becomes the provider's once it
        is installed (translation_provider ctranslate2 over every installed model)."""
        e = self._entry(kind, name)
        if not self.download_allowed():
            raise Conflict(
                f"model downloads are off (setting model_download); turn it on to install {name}",
                code="model_download_off",
            )
        running = self._downloads.get((kind, name))
        if running is not None and running.state == "downloading":
            return running.out()
        if store.is_installed(e, self.models_dir) or (
            kind == "whisper"
            and any(m.name == name for m in available_models(models_dir=self.models_dir))
        ):
            raise Conflict(f"{kind} model {name} is already installed", code="model_installed")
        job = Download(entry=e)
        self._downloads[(kind, name)] = job
        job.task = asyncio.get_running_loop().create_task(self._run(job, use=use))
        self._publish(job)
        return job.out()

    async def _run(self, job: Download, *, use: bool = False) -> None:
        e = job.entry
        min_free = int(self._settings.get("min_free_disk_mib") or 0) * MIB

        def report(progress: store.Progress) -> None:
            job.progress = progress
            self._publish(job)

        try:
            await asyncio.to_thread(
                store.install,
                e,
                self.models_dir,
                on_progress=report,
                cancelled=lambda: job.cancel,
                min_free_bytes=min_free,
            )
        except SubtitlerError as exc:
            job.state, job.error, job.code = "failed", exc.detail, exc.code
            logger.warning("download of %s model %s failed: %s", e.kind, e.name, exc.detail)
        except Exception as exc:  # an OSError writing the files: reported, not raised
            job.state, job.error, job.code = "failed", str(exc), "model_download_failed"
            logger.exception("download of %s model %s failed", e.kind, e.name)
        else:
            job.state = "done"
            if use and e.kind == "translation":
                await self._use_installed()
        self._publish(job)

    async def _use_installed(self) -> None:
        update = getattr(self._settings, "bulk_update", None)
        if update is not None:
            await update({"translation_provider": "ctranslate2", "ctranslate2_model_dir": ""})
            logger.info("translation provider: ctranslate2 over the installed models")

    def _publish(self, job: Download) -> None:
        self._bus.publish(EVENT, {"kind": job.entry.kind, "name": job.entry.name, **job.out()})

    async def wait(self, kind: str, name: str) -> dict[str, Any]:
        """Until the download of kind/name ends (tests, the CLI)."""
        job = self._downloads.get((kind, name))
        if job is None:
            raise NotFound(f"no download of {kind} model {name}", code="unknown_model")
        if job.task is not None:
            await asyncio.shield(job.task)
        return job.out()

    async def stop(self) -> None:
        for job in self._downloads.values():
            job.cancel = True
        tasks = [j.task for j in self._downloads.values() if j.task and not j.task.done()]
        for task in tasks:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 2.0)

    # -- delete ----------------------------------------------------------------------------
    def delete(self, kind: str, name: str) -> None:
        row = next(
            (m for m in self.listing()["models"] if m["kind"] == kind and m["name"] == name), None
        )
        if row is None or not row["installed"]:
            raise NotFound(f"{kind} model {name} is not installed", code="unknown_model")
        if row["in_use"]:
            raise Conflict(
                f"{kind} model {name} is in use ({', '.join(row['in_use'])})", code="model_in_use"
            )
        if not row["deletable"]:
            raise Conflict(
                f"{kind} model {name} comes from {row['source']} and is not "
                "the models dir's to delete",
                code="model_not_deletable",
            )
        if (job := self._downloads.get((kind, name))) and job.state == "downloading":
            raise Conflict(f"{kind} model {name} is downloading", code="model_downloading")
        e = entry(kind, name) or Entry(kind=kind, name=name, repo="", size_bytes=0)
        store.remove(e, self.models_dir)
        self._downloads.pop((kind, name), None)

    # -- the wizard ------------------------------------------------------------------------
    def offer_for(self, target: str, source: str | None = None) -> list[dict[str, Any]]:
        """Catalog translation models that would make source -> target reachable offline."""
        target = require_language(target, field="target")
        source = require_language(source, field="source") if source else None
        rows = {(m["kind"], m["name"]): m for m in self.listing()["models"]}
        return [
            rows[("translation", e.name)]
            for e in translation_for(source, target)
            if ("translation", e.name) in rows
        ]


__all__ = ["EVENT", "TRANSLATION", "ModelsService"]
