"""A tiny random-weight NLLB-shaped CTranslate2 model (12 KB) with a real sentencepiece model:
exercises loading, the language tokens and decoding without any downloaded weights (no PyPI
package ships MT weights; the output is noise, the code path is real)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

CORPUS = ["hello world good evening my friend", "the house is big",
          "hola mundo buenas noches", "la casa es grande"]  # fmt: skip


def make_nllb_like(out: Path, *, languages: tuple[str, ...] = ("eng_Latn", "spa_Latn")) -> Path:
    import sentencepiece as spm
    from ctranslate2.specs import transformer_spec

    out.mkdir(parents=True, exist_ok=True)
    corpus = out.parent / f"{out.name}-corpus.txt"
    corpus.write_text("\n".join(CORPUS * 50), encoding="utf-8")
    prefix = out / "sentencepiece.bpe"
    spm.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(prefix), vocab_size=40, model_type="bpe",
        character_coverage=1.0, bos_id=-1, eos_id=1, unk_id=0, pad_id=-1, minloglevel=2,
    )  # fmt: skip
    (out / "sentencepiece.bpe.vocab").unlink(missing_ok=True)
    sp = spm.SentencePieceProcessor(model_file=str(prefix) + ".model")
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = ["<s>", "<pad>", "</s>", "<unk>"]
    vocab += [p for p in pieces if p not in vocab] + list(languages)
    spec = transformer_spec.TransformerSpec.from_config((1, 1), 2)
    d, ffn, size = 8, 16, len(vocab)
    rng = np.random.default_rng(0)

    def rand(*shape: int) -> Any:
        return (rng.standard_normal(shape) * 0.1).astype(np.float32)

    for name, value in spec.variables(ordered=True):
        if value is not None:
            continue
        if "embeddings" in name or "projection" in name:
            array = rand(size, d)
        elif "layer_norm" in name:
            array = (np.ones if name.endswith("gamma") else np.zeros)(d, np.float32)
        elif "self_attention/linear_0" in name:
            array = rand(3 * d, d)
        elif "/attention/linear_1" in name:
            array = rand(2 * d, d)
        elif "ffn/linear_0" in name:
            array = rand(ffn, d)
        elif "ffn/linear_1" in name:
            array = rand(d, ffn)
        else:
            array = rand(d, d)
        owner, attr = _resolve(spec, name)
        setattr(owner, attr, array)
    spec.register_source_vocabulary(vocab)
    spec.register_target_vocabulary(vocab)
    spec.validate()
    spec.optimize()
    spec.save(str(out))
    return out


def _resolve(spec: Any, path: str) -> tuple[Any, str]:
    obj = spec
    parts = path.split("/")
    for part in parts[:-1]:
        match = re.fullmatch(r"(\w+?)_(\d+)", part)
        if match and not hasattr(obj, part):
            obj = getattr(obj, match.group(1))[int(match.group(2))]
        else:
            obj = getattr(obj, part)
    return obj, parts[-1]
