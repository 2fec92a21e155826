"""`python -m bench kb [--articles N] [--queries Q]`: knowledge-base search latency on PostgreSQL.

Loads N articles (default 50,000) into the benchmark database once: titles and bodies drawn from real English
word frequencies (pyspellchecker's list), so common words match tens of thousands of articles as in a real
knowledge base; 10% internal. Then times `knowledge.search.search_articles` (ranking, counting, highlighting,
loading the hits: what the API and portal call) over Q queries per kind, and the same one-word queries
through the HTTP API. Baseline in the same run: a naive case-insensitive substring search (ILIKE on title and
text, newest first, no ranking), which is what searching without the full-text index would cost.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

from .common import ensure_database, percentile, setup_django, summary

SEED = 20261124


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench kb")
    parser.add_argument("--articles", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=200, help="queries per kind")
    args = parser.parse_args(argv)

    setup_django()
    ensure_database()
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor != "postgresql":
        print("bench kb measures PostgreSQL; set DATABASE_URL to a PostgreSQL database", file=sys.stderr)
        return 2
    call_command("migrate", verbosity=0)
    import numpy as np

    from knowledge.models import Article

    words, weights = _vocabulary()
    rng = np.random.default_rng(SEED)
    have = Article.objects.count()
    if have < args.articles:
        print(f"Loading {args.articles - have} articles (once)…", flush=True)
        _load(args.articles - have, have, words, weights, rng)
    total = Article.objects.filter(status="published").count()
    queries = _queries(words, rng, args.queries)

    from knowledge.search import search_articles

    results: dict[str, list[float]] = {}
    hits_per_kind: dict[str, list[int]] = {}
    backend = _backend_process()
    print(f"load average before: {_loadavg()}", flush=True)
    for kind, items in queries.items():
        match = "any" if kind == "customer message (any word)" else "all"
        timings, matched = [], []
        for q in items[:3]:
            search_articles(q, audience="agent", match=match)  # warm-up
        cpu_before = _cpu(backend)
        for q in items:
            start = time.perf_counter()
            result = search_articles(q, audience="agent", match=match, limit=20)
            timings.append((time.perf_counter() - start) * 1000)
            matched.append(result.total)
        cpu_ms = (_cpu(backend) - cpu_before) * 1000 / len(items)
        results[kind] = timings
        hits_per_kind[kind] = matched
        print(f"{kind:34} {summary(timings)}; CPU {cpu_ms:.1f} ms/query; matches median {int(statistics.median(matched))}", flush=True)

    everything = [t for values in results.values() for t in values]
    print(f"{'ALL search_articles':34} {summary(everything)}", flush=True)

    baseline = _baseline(queries["one common word"][:30])
    print(f"{'baseline ILIKE, one common word':34} {summary(baseline)}", flush=True)

    api = _api(queries["one common word"][:50])
    print(f"{'HTTP API /api/v1/articles/?q=':34} {summary(api)}", flush=True)

    ours = results["one common word"]
    print(f"load average after: {_loadavg()}")
    print(
        f"\n{total} published articles; {args.queries} queries per kind. p95 all kinds {percentile(everything, 95):.1f} ms "
        f"(target < 30 ms). One common word: full-text p95 {percentile(ours, 95):.1f} ms vs ILIKE p95 "
        f"{percentile(baseline, 95):.1f} ms ({percentile(baseline, 95) / percentile(ours, 95):.1f}x)."
    )
    return 0


def _backend_process():
    """The PostgreSQL backend serving this connection, to count its CPU time next to ours."""
    import psutil
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None


def _cpu(backend) -> float:
    """CPU seconds used so far by this process and the PostgreSQL backend: what a query costs on an idle
    machine, whatever else is running (wall-clock latency on a shared 2-core box mostly measures waiting)."""
    own = time.process_time()
    if backend is None:
        return own
    try:
        times = backend.cpu_times()
    except Exception:
        return own
    return own + times.user + times.system


def _loadavg() -> str:
    import os

    return " ".join(f"{v:.1f}" for v in os.getloadavg())


def _vocabulary() -> tuple[list[str], list[float]]:
    import spellchecker

    path = Path(spellchecker.__file__).parent / "resources" / "en.json.gz"
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        frequencies = json.load(handle)
    ranked = sorted(((w, c) for w, c in frequencies.items() if w.isalpha() and len(w) > 1), key=lambda item: -item[1])[:30_000]
    words = [w for w, _c in ranked]
    counts = [c for _w, c in ranked]
    total = float(sum(counts))
    return words, [c / total for c in counts]


def _load(count: int, start: int, words, weights, rng) -> None:
    import numpy as np
    from django.db import connection

    from knowledge.models import Article, Category
    from knowledge.search import index_words

    vocab = np.array(words)
    p = np.array(weights)
    content = vocab[100:10_000]  # titles are made of content words, not "the" and "of"
    content_p = p[100:10_000] / p[100:10_000].sum()
    categories = [Category.objects.get_or_create(slug=f"bench-{n}", defaults={"name": f"Bench topic {n}"})[0] for n in range(20)]
    batch_size = 2000
    done = 0
    while done < count:
        n = min(batch_size, count - done)
        rows = []
        for i in range(n):
            number = start + done + i
            title_words = rng.choice(content, size=int(rng.integers(3, 9)), p=content_p)
            body_words = rng.choice(vocab, size=int(rng.integers(60, 260)), p=p)
            title = " ".join(title_words).capitalize()[:200]
            sentences = [" ".join(body_words[k : k + 12]).capitalize() + "." for k in range(0, len(body_words), 12)]
            text = " ".join(sentences)
            rows.append(
                Article(
                    title=title, slug=f"bench-{number}", body=text, html=f"<p>{text}</p>", text=text,
                    category=categories[number % len(categories)], tags=[str(title_words[0])], tags_text=str(title_words[0]),
                    visibility="internal" if number % 10 == 0 else "public", status="published", language="en",
                )
            )  # fmt: skip
        Article.objects.bulk_create(rows)
        index_words([f"{r.title} {r.tags_text}" for r in rows] + [r.text for r in rows[:200]])
        done += n
        print(f"  {start + done} articles", flush=True)
    index_words(list(words[:20_000]))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE knowledge_article")
        cursor.execute("ANALYZE knowledge_word")


def _queries(words: list[str], rng, per_kind: int) -> dict[str, list[str]]:
    from knowledge.models import Article

    common = words[100:1000]
    mid = words[100:5000]
    rare = words[5000:30_000]
    titles = list(Article.objects.order_by("?").values_list("title", flat=True)[:per_kind])
    letters = "abcdefghijklmnopqrstuvwxyz"

    def typo(word: str) -> str:
        position = int(rng.integers(1, len(word)))
        return word[:position] + letters[int(rng.integers(0, 26))] + word[position + 1 :]

    def pick(pool, k=1):
        return [pool[int(rng.integers(0, len(pool)))] for _ in range(k)]

    return {
        "one common word": [pick(common)[0] for _ in range(per_kind)],
        "two words": [" ".join(pick(mid, 2)) for _ in range(per_kind)],
        "words from a title": [" ".join(t.lower().split()[:3]) for t in titles],
        "prefix while typing": [w[: max(3, len(w) - 2)] for w in (pick(mid)[0] for _ in range(per_kind))],
        "rare word": [pick(rare)[0] for _ in range(per_kind)],
        "typo (suggestion)": [typo(w) + "q" for w in (pick([w for w in mid if len(w) > 5])[0] for _ in range(per_kind))],
        "customer message (any word)": [" ".join(pick(words[:3000], 18)) for _ in range(per_kind)],
    }


def _baseline(queries: list[str]) -> list[float]:
    from django.db.models import Q

    from knowledge.models import Article

    timings = []
    for q in queries:
        start = time.perf_counter()
        qs = Article.objects.filter(status="published").filter(Q(title__icontains=q) | Q(text__icontains=q))
        list(qs.order_by("-updated_at", "-id")[:20])
        qs.count()
        timings.append((time.perf_counter() - start) * 1000)
    return timings


def _api(queries: list[str]) -> list[float]:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from tickets.models import AgentProfile

    user, _created = get_user_model().objects.get_or_create(username="bench-kb-agent")
    AgentProfile.objects.get_or_create(user=user)
    client = Client(HTTP_HOST="localhost")
    client.force_login(user)
    timings = []
    for q in queries:
        start = time.perf_counter()
        response = client.get("/api/v1/articles/", {"q": q})
        timings.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.content[:200]
    return timings
