"""A local pyannote.audio speaker-diarization pipeline folder with random weights (no hub).

Laid out like pyannote/speaker-diarization-community-1 (config.yaml, segmentation/, embedding/,
plda/): the same model classes (PyanNet powerset segmentation, WeSpeaker ResNet34 embeddings,
VBx clustering over a PLDA) so the real loading and inference code runs; only the weights are
random, so the speakers it finds mean nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch


def _checkpoint(model: Any) -> dict[str, Any]:
    import lightning

    return {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
        "pyannote.audio": {
            "versions": {"pyannote.audio": __import__("pyannote.audio").audio.__version__},
            "architecture": {
                "module": type(model).__module__,
                "class": type(model).__name__,
            },
            "specifications": model.specifications,
        },
    }


def build_pipeline(folder: Path, *, seed: int = 0, step: float = 0.1) -> Path:
    """Write the pipeline folder; returns it (pass it as the diarization_pipeline setting).
    `step`: the sliding window's step in chunk durations (community-1: 0.1; tests: coarser)."""
    from pyannote.audio.core.task import Problem, Resolution, Specifications
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)

    segmentation = PyanNet(sincnet={"stride": 10})
    segmentation.specifications = Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=10.0,
        warm_up=(0.0, 0.0),
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )
    segmentation.build()
    (folder / "segmentation").mkdir(exist_ok=True)
    torch.save(_checkpoint(segmentation), folder / "segmentation" / "pytorch_model.bin")

    embedding = WeSpeakerResNet34()
    embedding.specifications = Specifications(
        problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=10.0
    )
    (folder / "embedding").mkdir(exist_ok=True)
    torch.save(_checkpoint(embedding), folder / "embedding" / "pytorch_model.bin")

    dim, lda_dim = embedding.dimension, 128
    (folder / "plda").mkdir(exist_ok=True)
    np.savez(
        folder / "plda" / "xvec_transform.npz",
        mean1=rng.normal(size=dim) * 0.01,
        mean2=rng.normal(size=lda_dim) * 0.01,
        lda=np.linalg.qr(rng.normal(size=(dim, lda_dim)))[0],
    )
    np.savez(
        folder / "plda" / "plda.npz",
        mu=np.zeros(lda_dim),
        tr=np.eye(lda_dim) + rng.normal(size=(lda_dim, lda_dim)) * 0.01,
        psi=np.linspace(5.0, 0.1, lda_dim),
    )
    (folder / "config.yaml").write_text(
        "pipeline:\n"
        "  name: pyannote.audio.pipelines.SpeakerDiarization\n"
        "  params:\n"
        "    segmentation: $model/segmentation\n"
        "    embedding: $model/embedding\n"
        "    plda: $model/plda\n"
        "    clustering: VBxClustering\n"
        f"    segmentation_step: {step}\n"
        "    embedding_batch_size: 8\n"
        "    segmentation_batch_size: 8\n"
        "params:\n"
        "  segmentation:\n"
        "    min_duration_off: 0.0\n"
        "  clustering:\n"
        "    threshold: 0.6\n"
        "    Fa: 0.07\n"
        "    Fb: 0.8\n"
    )
    return folder
