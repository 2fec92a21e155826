"""Lexical retrieval over the assist index (BM25 via `bm25s` on Snowball stems), optional semantic re-rank.

The documents live in the DB (`IndexDoc`, upserted one by one as their sources change, stems precomputed).
Each process keeps one BM25 matrix over them and rebuilds it when `IndexState.generation` has moved, so every
web and worker process sees an edit made by any other one. Building costs ~70 µs per doc on this machine: up to
SYNC_REBUILD_MAX docs the query waits for it (a few hundred ms at most); above, the query is answered from the
previous matrix while one background thread rebuilds, and hits are re-read from the DB so a deleted or edited
answer is never served stale.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

import numpy as np

from . import text as textlib

log = logging.getLogger(__name__)

SYNC_REBUILD_MAX = 5000
CANDIDATES = 20  # lexical candidates handed to the re-ranker
OTHER_LANGUAGE_WEIGHT = 0.6  # a doc in another language than the question still counts, less


@dataclass(frozen=True)
class Hit:
    doc_id: int
    source: str
    ref: int
    title: str
    answer: str
    url: str
    score: float


@dataclass
class _Index:
    generation: int
    rows: list[dict]
    retriever: object | None
    team_ids: np.ndarray
    owner_ids: np.ndarray
    languages: np.ndarray
    sources: np.ndarray
    public: np.ndarray


_lock = threading.Lock()
_index: _Index | None = None
_rebuilding = False


def search(
    query: str,
    *,
    team_ids: set[int] | None,
    owner_id: int | None = None,
    k: int = 3,
    rerank: bool | None = None,
    exclude: set[tuple[str, int]] = frozenset(),
    sources: set[str] | None = None,
    public_only: bool = False,
) -> list[Hit]:
    """The `k` best answers for `query` among docs visible to teams `team_ids` (None: all teams).

    Docs without a team are visible to everyone; canned responses with an owner only to that owner.
    """
    language, query_tokens = textlib.query_tokens(query)
    if not query_tokens:
        return []
    index, stale = _current()
    if index.retriever is None:
        return []
    scores = np.asarray(index.retriever.get_scores(query_tokens), dtype=np.float64)
    visible = np.ones(len(index.rows), dtype=bool)
    if team_ids is not None:
        allowed = np.array(sorted(team_ids) or [-2], dtype=np.int64)
        visible &= (index.team_ids == -1) | np.isin(index.team_ids, allowed)
    visible &= (index.owner_ids == -1) | (index.owner_ids == (owner_id if owner_id is not None else -3))
    if sources is not None:
        visible &= np.isin(index.sources, np.array(sorted(sources), dtype=object))
    if public_only:
        visible &= index.public
    scores = np.where(visible, scores, 0.0)
    scores = np.where(index.languages == language, scores, scores * OTHER_LANGUAGE_WEIGHT)
    order = np.argsort(-scores, kind="stable")
    candidates: list[Hit] = []
    seen_answers: set[str] = set()
    limit = max(k, CANDIDATES)
    for i in order[: limit * 3]:
        if scores[i] <= 0:
            break
        row = index.rows[i]
        if (row["source"], row["ref"]) in exclude:
            continue
        key = " ".join(row["answer"].split()).lower()
        if key in seen_answers:
            continue
        seen_answers.add(key)
        candidates.append(Hit(row["id"], row["source"], row["ref"], row["title"], row["answer"], row["url"], float(scores[i])))
        if len(candidates) >= limit:
            break
    if stale:
        candidates = _fresh(candidates)
    if rerank is None:
        rerank = semantic_enabled()
    if rerank and len(candidates) > 1:
        from . import semantic

        candidates = semantic.rerank(query, candidates, index.rows)
    return candidates[:k]


def current_index() -> _Index:
    """This process's BM25 matrix, rebuilt from the DB when another writer moved the generation."""
    return _current()[0]


def _current() -> tuple[_Index, bool]:
    """(matrix, stale): stale while a large index is being rebuilt in the background."""
    global _index
    from .models import IndexState

    generation = IndexState.objects.filter(pk=1).values_list("generation", flat=True).first() or 0
    index = _index
    if index is not None and index.generation == generation:
        return index, False
    if index is not None and len(index.rows) > SYNC_REBUILD_MAX:
        _rebuild_in_background()
        return index, True
    with _lock:
        if _index is None or _index.generation != generation:
            _index = _build(generation)
        return _index, False


def _fresh(candidates: list[Hit]) -> list[Hit]:
    """Re-read hits from a stale matrix: drop deleted docs, take edited answers as they are now."""
    from dataclasses import replace

    from .models import IndexDoc

    current = {row["id"]: row for row in IndexDoc.objects.filter(pk__in=[h.doc_id for h in candidates]).values("id", "title", "answer", "url")}
    return [replace(h, title=current[h.doc_id]["title"], answer=current[h.doc_id]["answer"], url=current[h.doc_id]["url"]) for h in candidates if h.doc_id in current]


def _rebuild_in_background() -> None:
    global _rebuilding
    with _lock:
        if _rebuilding:
            return
        _rebuilding = True

    def work() -> None:
        global _index, _rebuilding
        from django.db import close_old_connections

        from .models import IndexState

        try:
            generation = IndexState.objects.filter(pk=1).values_list("generation", flat=True).first() or 0
            fresh = _build(generation)
            with _lock:
                _index = fresh
        except Exception:
            log.exception("background rebuild of the suggestion index failed")
        finally:
            close_old_connections()
            _rebuilding = False

    threading.Thread(target=work, name="assist-index-rebuild", daemon=True).start()


def semantic_enabled() -> bool:
    if os.environ.get("ASSIST_SEMANTIC", "1") in {"0", "false", "no"}:
        return False
    from . import semantic

    return semantic.available()


def _build(generation: int) -> _Index:
    import bm25s

    from .models import IndexDoc

    rows = list(
        IndexDoc.objects.order_by("id").values("id", "source", "ref", "team_id", "owner_id", "language", "title", "answer", "url", "tokens", "match_text")
    )
    corpus = [row["tokens"].split() or [""] for row in rows]
    retriever = None
    if rows:
        retriever = bm25s.BM25()
        retriever.index(corpus, show_progress=False)
    return _Index(
        generation=generation,
        rows=rows,
        retriever=retriever,
        team_ids=np.array([r["team_id"] if r["team_id"] is not None else -1 for r in rows], dtype=np.int64),
        owner_ids=np.array([r["owner_id"] if r["owner_id"] is not None else -1 for r in rows], dtype=np.int64),
        languages=np.array([r["language"] for r in rows], dtype=object),
        sources=np.array([r["source"] for r in rows], dtype=object),
        public=np.array([bool(r["url"]) for r in rows], dtype=bool),
    )


def reset_cache() -> None:
    """Forget this process's matrix (tests that roll back the DB under it)."""
    global _index
    with _lock:
        _index = None
