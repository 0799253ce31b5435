"""The diarization stage (issue 24): who speaks when, by pyannote.audio, in a worker process.

Runs on the PCM the job already decoded (16 kHz mono float32, handed to pyannote as an in-memory
waveform: no second decode). pyannote.audio and torch are imported only here and only when a job
asks for speakers, so with diarization off the worker never imports torch. The loaded pipeline
stays warm between jobs and is dropped with the worker's other idle models.

Every failure a user can meet becomes one sentence (DiarizationError, a SubtitlerError): the
extra not installed, no token, the model's terms not accepted, a bad token, the hub unreachable.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from subtitler.errors import SubtitlerError
from subtitler.settings.specs.diarization import DEFAULT_PIPELINE
from subtitler.subtitles.speakers import Turn

logger = logging.getLogger(__name__)

# the PCM every job decodes (subtitler.media.pcm, not imported: it loads numpy and PyAV, and the
# daemon imports this module for its capabilities)
SAMPLE_RATE = 16000

# The gated pages whose terms the token's account must accept, per pipeline.
_GATED_PAGES = {
    "pyannote/speaker-diarization-community-1": ("pyannote/speaker-diarization-community-1",),
    "pyannote/speaker-diarization-3.1": (
        "pyannote/speaker-diarization-3.1",
        "pyannote/segmentation-3.0",
    ),
}


class DiarizationError(SubtitlerError):
    """One sentence a user can act on (stored on the job, shown in the UI)."""


@dataclass(frozen=True, slots=True)
class DiarizeRequest:
    enabled: bool
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None

    @classmethod
    def of(cls, settings: Mapping[str, Any], job: Mapping[str, Any]) -> DiarizeRequest:
        """The job's own `diarize` (request or rule options) over the setting."""
        own: Mapping[str, Any] = job.get("options") or {}
        enabled = own.get("diarize")
        if enabled is None:
            enabled = settings.get("diarization_enabled", False)

        def count(name: str) -> int | None:
            value = own.get(name)
            return int(value) if value is not None else None

        return cls(
            enabled=bool(enabled),
            num_speakers=count("num_speakers"),
            min_speakers=count("min_speakers"),
            max_speakers=count("max_speakers"),
        )


def pipeline_pages(name: str) -> str:
    pages = _GATED_PAGES.get(name, (name,))
    return " and ".join(f"https://huggingface.co/{page}" for page in pages)


def explain(exc: BaseException, *, pipeline: str, token: str) -> DiarizationError:
    """The sentence for a failure to load `pipeline` (never a stack trace)."""
    if isinstance(exc, DiarizationError):
        return exc
    if isinstance(exc, ImportError):
        return DiarizationError(
            "speaker diarization needs pyannote.audio, which is not installed: "
            "pip install 'subtitler[diarization]' (or scripts/install --diarization)",
            code="diarization_not_installed",
        )
    status = getattr(getattr(exc, "response", None), "status_code", None)
    name = type(exc).__name__
    pages = pipeline_pages(pipeline)
    if name == "GatedRepoError" or status == 403:
        return DiarizationError(
            f"the Hugging Face account of the token has not accepted the terms of {pages}: "
            "accept them there, then retry",
            code="diarization_terms",
        )
    if status == 401 or name == "RepositoryNotFoundError":
        if not token:
            return _no_token(pipeline)
        return DiarizationError(
            f"Hugging Face refused the token for {pipeline} (invalid or expired): paste a new "
            "read token in Settings > huggingface_token",
            code="diarization_token_refused",
        )
    if (
        isinstance(exc, (ConnectionError, TimeoutError, OSError))
        or name in ("LocalEntryNotFoundError", "OfflineModeIsEnabled")
        or "connect" in name.lower()
        or (isinstance(status, int) and status >= 500)
    ):
        return DiarizationError(
            f"the Hugging Face hub is unreachable, so {pipeline} could not be downloaded: "
            "check the connection, or set diarization_pipeline to a local folder",
            code="diarization_hub_unreachable",
        )
    return DiarizationError(
        f"the diarization pipeline {pipeline} could not be loaded ({name}: {exc})",
        code="diarization_failed",
    )


def _no_token(pipeline: str) -> DiarizationError:
    return DiarizationError(
        f"{pipeline} needs a Hugging Face token: accept the terms of "
        f"{pipeline_pages(pipeline)}, then set huggingface_token in Settings",
        code="diarization_no_token",
    )


class Diarizer:
    """One warm pyannote pipeline per worker (a new name or device replaces it)."""

    def __init__(self, *, device: str = "cpu", device_index: int = 0) -> None:
        self.device = device
        self.device_index = device_index
        self._pipeline: Any = None
        self._name: str | None = None
        self._last_used = 0.0

    def unload_if_idle(self, idle_seconds: float) -> None:
        if self._pipeline is not None and time.monotonic() - self._last_used > idle_seconds:
            self.unload()

    def unload(self) -> None:
        self._pipeline, self._name = None, None

    def load(self, settings: Mapping[str, Any]) -> Any:
        name = str(settings.get("diarization_pipeline") or DEFAULT_PIPELINE).strip()
        token = str(settings.get("huggingface_token") or "").strip()
        if self._pipeline is not None and self._name == name:
            return self._pipeline
        local = Path(name).expanduser()
        if not local.is_dir() and not token:
            if "/" in name and not name.startswith((".", "/")):
                raise _no_token(name)
            raise DiarizationError(
                f"diarization_pipeline {name!r} is neither a folder on this machine nor a "
                "Hugging Face name",
                code="diarization_failed",
            )
        try:
            import torch
            from pyannote.audio import Pipeline

            pipeline = Pipeline.from_pretrained(
                str(local) if local.is_dir() else name, token=token or None
            )
            if pipeline is None:  # pyannote returns None when it cannot download
                raise ConnectionError("no pipeline")
            if self.device == "cuda":
                pipeline.to(torch.device(f"cuda:{self.device_index}"))
        except Exception as exc:
            logger.debug("diarization pipeline %s failed to load", name, exc_info=True)
            raise explain(exc, pipeline=name, token=token) from None
        self._pipeline, self._name = pipeline, name
        return pipeline

    def run(
        self,
        samples: Any,
        *,
        settings: Mapping[str, Any],
        request: DiarizeRequest,
        progress: Callable[[float], None] | None = None,
        cancel: Callable[[], bool] | None = None,
    ) -> list[Turn]:
        """Speaker turns of `samples` (16 kHz mono float32 numpy array)."""
        pipeline = self.load(settings)
        import numpy as np
        import torch

        threads = int(settings.get("__cpu_threads__") or 0)
        if self.device != "cuda" and threads:
            torch.set_num_threads(threads)
        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
        steps = {"segmentation": (0.0, 0.45), "embeddings": (0.45, 0.95)}

        def hook(
            step: str, _artifact: Any, file: Any = None, total: int | None = None,
            completed: int | None = None,
        ) -> None:  # fmt: skip
            if cancel is not None and cancel():
                raise DiarizationCancelled("cancelled")
            if progress is not None and total and completed is not None and step in steps:
                low, high = steps[step]
                progress(low + (high - low) * min(1.0, completed / total))

        counts = {
            k: v
            for k, v in (
                ("num_speakers", request.num_speakers),
                ("min_speakers", request.min_speakers),
                ("max_speakers", request.max_speakers),
            )
            if v is not None
        }
        try:
            with torch.inference_mode():
                output = pipeline(
                    {"waveform": waveform, "sample_rate": SAMPLE_RATE}, hook=hook, **counts
                )
        except DiarizationCancelled:
            raise
        except Exception as exc:
            logger.debug("diarization failed", exc_info=True)
            raise DiarizationError(
                f"speaker diarization failed ({type(exc).__name__}: {exc})",
                code="diarization_failed",
            ) from None
        self._last_used = time.monotonic()
        annotation = getattr(output, "speaker_diarization", output)
        turns = [
            Turn(float(seg.start), float(seg.end), str(label))
            for seg, _track, label in annotation.itertracks(yield_label=True)
        ]
        if progress is not None:
            progress(1.0)
        return turns


class DiarizationCancelled(Exception):
    pass


def installed() -> bool:
    """Whether pyannote.audio can be imported (without importing it, nor torch)."""
    import importlib.util

    try:
        return importlib.util.find_spec("pyannote.audio") is not None
    except (ImportError, ValueError):
        return False


def capabilities(settings: Mapping[str, Any]) -> dict[str, Any]:
    """What /api/capabilities reports about diarization (cheap: nothing is imported)."""
    name = str(settings.get("diarization_pipeline") or DEFAULT_PIPELINE)
    local = Path(name).expanduser()
    token = bool(str(settings.get("huggingface_token") or "").strip())
    ready = installed() and ((local / "config.yaml").is_file() or token)
    return {
        "engine": "pyannote.audio",
        "installed": installed(),
        "pipeline": name,
        "local": local.is_dir(),
        "token_set": token,
        "ready": bool(ready),
        "enabled_by_default": bool(settings.get("diarization_enabled", False)),
    }
