"""Full-text search of articles, on PostgreSQL and on the embedded SQLite default.

PostgreSQL: a generated `search_vector` column (title weight A, tags B, body C; English or Finnish stemming by
the article's language) with a GIN index, ranked by `ts_rank_cd`, highlighted by `ts_headline`. SQLite: an FTS5
table kept in sync by triggers, ranked by `bm25` with the same column weights, highlighted by `snippet`.
Both: every word must match and the last one matches as a prefix (search as you type); `match="any"` ranks
articles sharing any word (suggestions from a customer's message). When nothing matches, a corrected query
is suggested from the vocabulary of published articles (pg_trgm similarity, or difflib on SQLite), and only
if that correction finds something for the same audience.
"""

from __future__ import annotations

import difflib
import html
import re
import time
from dataclasses import dataclass, field

from django.db import connection

from .models import Article, ArticleStatus, Visibility, Word

MAX_TOKENS = 12
MAX_ANY_TOKENS = 24
START, STOP = "\ue000", "\ue001"  # private-use markers: escaped text never contains them
_WORD = re.compile(r"\w+", re.UNICODE)
_FTS_TABLE = "knowledge_article_fts"
# SQLite has no stop-word list; without one, "how do I" would swamp an any-word match.
STOP_WORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have", "how", "i", "if", "in", "is", "it", "me", "my", "no", "not", "of", "on", "or", "our", "so", "that", "the", "their", "there", "this", "to", "was", "we", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your", "ja", "ei", "on", "se", "että", "kun", "mutta", "tai", "ole", "olen", "olla", "mitä", "miten", "minä", "sinä", "me", "te", "he", "niin"]
)


@dataclass
class Hit:
    article: Article
    rank: float
    snippet_html: str
    title_html: str


@dataclass
class SearchResult:
    hits: list[Hit] = field(default_factory=list)
    total: int = 0
    suggestion: str = ""
    capped: bool = False  # more articles match than were ranked: `total` is "at least"


def tokenize(text: str) -> list[str]:
    return [t for t in _WORD.findall(text.lower()) if len(t) <= 40 and t != "_"]


def search_articles(
    q: str,
    *,
    audience: str = "public",
    language: str = "",
    category_id: int | None = None,
    match: str = "all",
    limit: int = 20,
    offset: int = 0,
    suggest: bool = True,
) -> SearchResult:
    """Published articles matching `q`, best first. `audience` "public" never returns internal articles."""
    tokens = tokenize(q)
    if match == "any":
        tokens = _distinct([t for t in tokens if t not in STOP_WORDS and len(t) > 1])[:MAX_ANY_TOKENS]
    else:
        tokens = tokens[:MAX_TOKENS]
    if not tokens:
        return SearchResult()
    visibilities = [Visibility.PUBLIC] if audience == "public" else [Visibility.PUBLIC, Visibility.INTERNAL]
    backend = _postgres if connection.vendor == "postgresql" else _sqlite
    rows, total, capped = backend(tokens, match, visibilities, language, category_id, limit, offset)
    result = SearchResult(total=total, capped=capped)
    if rows:
        articles = Article.objects.select_related("category", "author").in_bulk([r[0] for r in rows])
        for article_id, rank, snippet in rows:
            article = articles.get(article_id)
            if article is not None:
                snippet_html = _marked_to_html(snippet) if snippet else make_snippet(article.text, tokens)
                result.hits.append(Hit(article, float(rank), snippet_html, highlight(article.title, tokens)))
    elif suggest and match == "all":
        result.suggestion = suggest_correction(tokens, audience=audience, language=language, category_id=category_id)
    return result


def suggest_correction(tokens: list[str], *, audience: str = "public", language: str = "", category_id: int | None = None) -> str:
    """A corrected query (known words closest to the typed ones) that finds something, or ""."""
    corrected = [_closest_word(t) or t for t in tokens]
    if corrected == tokens:
        return ""
    suggestion = " ".join(corrected)
    found = search_articles(suggestion, audience=audience, language=language, category_id=category_id, limit=1, suggest=False)
    return suggestion if found.total else ""


def highlight(text: str, tokens: list[str]) -> str:
    """`text` HTML-escaped, with words starting with a query token wrapped in <mark>."""
    if not tokens:
        return html.escape(text)
    prefixes = tuple(tokens)
    parts = []
    for piece in re.split(r"(\w+)", text):
        escaped = html.escape(piece)
        parts.append(f"<mark>{escaped}</mark>" if piece and piece.lower().startswith(prefixes) else escaped)
    return "".join(parts)


def make_snippet(text: str, tokens: list[str], words: int = 28) -> str:
    """The passage of `text` with the most query words, HTML-escaped, matches in <mark>. Words match a token
    by prefix, and long tokens by their first letters too, so "invoices" finds "invoice" (a light stemming)."""
    parts = re.split(r"(\w+)", text[:20_000])
    stems = tuple(t if len(t) < 5 else t[: max(4, len(t) - 2)] for t in tokens)
    hits = [i for i in range(1, len(parts), 2) if parts[i].lower().startswith(stems)][:200]
    hit_set = set(hits)
    word_positions = list(range(1, len(parts), 2))
    if not word_positions:
        return ""
    start_word = 0
    if hits:
        best, best_count = hits[0], 0
        for hit in hits:
            count = sum(1 for other in hits if hit <= other < hit + words * 2)
            if count > best_count:
                best, best_count = hit, count
        start_word = max(0, word_positions.index(best) - 6)
    first = word_positions[start_word] if start_word else 0
    last_word = min(len(word_positions) - 1, start_word + words)
    last = word_positions[last_word] + 1
    pieces = []
    for index in range(first, last):
        piece = html.escape(parts[index])
        pieces.append(f"<mark>{piece}</mark>" if index in hit_set else piece)
    snippet = re.sub(r"\s+", " ", "".join(pieces)).strip()
    prefix = "… " if first > 0 else ""
    suffix = " …" if last < len(parts) - 1 else ""
    return prefix + snippet + suffix


def index_words(texts: list[str]) -> None:
    """Add the words of published articles to the suggestion vocabulary."""
    words = {w for text in texts for w in tokenize(text) if 3 <= len(w) <= 40 and not w.isdigit()}
    if words:
        Word.objects.bulk_create([Word(word=w) for w in sorted(words)], ignore_conflicts=True, batch_size=1000)


# --------------------------------------------------------------------------------------------- backends


# Ranking work is bounded: at most this many title/tag matches and body matches are ranked per query. Below
# the caps (nearly every multi-word query) ranking is exact; a one-word query matching thousands of articles
# ranks a sample of its title matches and body matches, and its count is reported as "at least".
TITLE_CANDIDATES = 300
BODY_CANDIDATES = 150
ANY_TERMS = 6
COMMON_TERM_FREQUENCY = 0.02
PRUNE_FROM_ARTICLES = 2000


def _postgres(tokens, match, visibilities, language, category_id, limit, offset):
    if match == "any":
        tsq, tsq_params = "to_tsquery('simple', %s)", [_pg_any_query_text(tokens, language)]
        if not tsq_params[0]:
            return [], 0, False
    else:
        configs = [_pg_config(language)] if language else _configs_in_use()
        tsq = "(" + " || ".join(["to_tsquery(%s::regconfig, %s)"] * len(configs)) + ")"
        tsq_params = [value for config in configs for value in (config, _pg_query_text(tokens, match))]
    where, params = _filters("a", visibilities, language, category_id)
    # Only constant SQL fragments are interpolated; every value is a parameter.
    # One round trip: bounded candidates, ranked, one page. Snippets are cut in Python from the loaded text
    # (ts_headline re-parses every document and cost more than the ranking itself).
    sql = f"""
        WITH titles AS (
            SELECT a.id FROM knowledge_article a WHERE a.title_vector @@ {tsq} AND {where} LIMIT %s
        ), bodies AS (
            SELECT a.id FROM knowledge_article a WHERE a.search_vector @@ {tsq} AND {where} LIMIT %s
        ), candidates AS (
            SELECT id FROM titles UNION SELECT id FROM bodies
        )
        SELECT a.id, ts_rank_cd(a.search_vector, {tsq}, 32) AS rank, '',
               (SELECT count(*) FROM candidates), (SELECT count(*) FROM titles), (SELECT count(*) FROM bodies)
        FROM knowledge_article a JOIN candidates c ON c.id = a.id
        ORDER BY rank DESC, a.views DESC, a.id
        LIMIT %s OFFSET %s
    """  # noqa: S608
    values = [*tsq_params, *params, TITLE_CANDIDATES, *tsq_params, *params, BODY_CANDIDATES, *tsq_params, limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    if not rows:
        return [], 0, False
    total, titles, bodies = rows[0][3], rows[0][4], rows[0][5]
    return [(r[0], r[1], r[2]) for r in rows], total, titles >= TITLE_CANDIDATES or bodies >= BODY_CANDIDATES


def _pg_config(language: str) -> str:
    return "finnish" if language == "fi" else "english"


def _pg_any_query_text(tokens: list[str], language: str) -> str:
    """An OR query of the message's most telling words: words found in more than 2% of articles (by the
    planner's statistics of the index column) say little and cost much, so at most ANY_TERMS rarer ones stay."""
    configs = [_pg_config(language)] if language else _configs_in_use()
    text = " ".join(tokens)
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ".join(["SELECT u.lexeme FROM unnest(to_tsvector(%s::regconfig, %s)) u"] * len(configs)),
            [value for config in configs for value in (config, text)],
        )
        lexemes = [row[0] for row in cursor.fetchall()]
    frequencies = _common_lexemes()
    if frequencies:
        lexemes.sort(key=lambda lexeme: (frequencies.get(lexeme, 0.0), -len(lexeme), lexeme))
        telling = [lexeme for lexeme in lexemes if frequencies.get(lexeme, 0.0) < COMMON_TERM_FREQUENCY]
        lexemes = (telling or lexemes[:2])[:ANY_TERMS]
    else:
        lexemes = sorted(lexemes)[:MAX_ANY_TOKENS]
    return " | ".join("'" + lexeme.replace("'", "''") + "'" for lexeme in lexemes)


_languages: dict = {"at": 0.0, "configs": []}


def _configs_in_use() -> list[str]:
    """Stemming configurations of the languages articles are written in (a query without a language is
    stemmed once per language actually present, not for every language the desk could have)."""
    if time.monotonic() - _languages["at"] > 60 or not _languages["configs"]:
        languages = set(Article.objects.order_by().values_list("language", flat=True).distinct()[:10]) or {"en"}
        _languages.update(at=time.monotonic(), configs=sorted({_pg_config(code) for code in languages}))
    return _languages["configs"]


def forget_languages() -> None:
    """Called when an article is saved: a new language is searchable at once in this process."""
    _languages["at"] = 0.0


_lexeme_stats: dict = {"at": 0.0, "frequencies": {}}


def _common_lexemes() -> dict[str, float]:
    """Most common lexemes of the index column and the share of articles holding each, from pg_stats
    (refreshed by ANALYZE/autovacuum); read at most every five minutes per process."""
    if time.monotonic() - _lexeme_stats["at"] < 300:
        return _lexeme_stats["frequencies"]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT s.most_common_elems::text::text[], s.most_common_elem_freqs, c.reltuples FROM pg_stats s "
            "JOIN pg_class c ON c.relname = s.tablename AND c.relkind = 'r' "
            "WHERE s.tablename = 'knowledge_article' AND s.attname = 'search_vector' AND s.most_common_elems IS NOT NULL"
        )
        row = cursor.fetchone()
    # A small knowledge base is cheap to search with every word, and its statistics say little.
    frequencies = dict(zip(row[0], row[1], strict=False)) if row and row[2] >= PRUNE_FROM_ARTICLES else {}
    _lexeme_stats.update(at=time.monotonic(), frequencies=frequencies)
    return frequencies


def _pg_query_text(tokens: list[str], match: str) -> str:
    quoted = [f"'{t}'" for t in tokens]  # tokens are \w+ only: no quotes or operators inside
    if match == "any":
        return " | ".join(quoted)
    if len(tokens[-1]) >= 3:  # a one- or two-letter prefix matches half the index and says nothing
        quoted[-1] += ":*"
    return " & ".join(quoted)


def _sqlite(tokens, match, visibilities, language, category_id, limit, offset):
    quoted = [f'"{t}"' for t in tokens]
    if match == "any":
        fts_query = " OR ".join(quoted)
    else:
        if len(tokens[-1]) >= 3:
            quoted[-1] += "*"
        fts_query = " ".join(quoted)
    where, params = _filters("a", visibilities, language, category_id)
    base = f"FROM {_FTS_TABLE} f JOIN knowledge_article a ON a.id = f.rowid WHERE {_FTS_TABLE} MATCH %s AND {where}"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT a.id, -bm25({_FTS_TABLE}, 10.0, 4.0, 1.0) AS rank,
                       snippet({_FTS_TABLE}, 2, %s, %s, ' … ', 24)
                {base} ORDER BY bm25({_FTS_TABLE}, 10.0, 4.0, 1.0), a.views DESC, a.id LIMIT %s OFFSET %s""",
            [START, STOP, fts_query, *params, limit, offset],
        )
        rows = cursor.fetchall()
        if not rows:
            return [], 0, False
        cursor.execute(f"SELECT count(*) {base}", [fts_query, *params])
        total = cursor.fetchone()[0]
    return rows, total, False


def _filters(alias: str, visibilities, language: str, category_id: int | None) -> tuple[str, list]:
    clauses = [f"{alias}.status = %s", f"{alias}.visibility IN ({', '.join(['%s'] * len(visibilities))})"]
    params: list = [ArticleStatus.PUBLISHED, *visibilities]
    if language:
        clauses.append(f"{alias}.language = %s")
        params.append(language)
    if category_id:
        clauses.append(f"{alias}.category_id = %s")
        params.append(category_id)
    return " AND ".join(clauses), params


def _closest_word(token: str) -> str:
    if len(token) < 3 or token.isdigit() or Word.objects.filter(word=token).exists():
        return ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word, similarity(word, %s) FROM knowledge_word ORDER BY word <-> %s LIMIT 5",
                [token, token],
            )
            rows = [r for r in cursor.fetchall() if r[1] >= 0.3]
        rows.sort(key=lambda r: (-r[1], abs(len(r[0]) - len(token)), r[0]))
        return rows[0][0] if rows else ""
    # SQLite: compare with words of about the same length sharing the first letter (bounded work).
    candidates = Word.objects.filter(word__startswith=token[0]).values_list("word", flat=True)[:20000]
    close = difflib.get_close_matches(token, [w for w in candidates if abs(len(w) - len(token)) <= 2], n=1, cutoff=0.75)
    return close[0] if close else ""


def _marked_to_html(snippet: str) -> str:
    escaped = html.escape(snippet or "")
    return escaped.replace(START, "<mark>").replace(STOP, "</mark>")


def _distinct(items: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


# --------------------------------------------------------------------------------------------- index DDL

PG_INDEX_SQL = [
    """
    ALTER TABLE knowledge_article ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE WHEN language = 'fi' THEN 'finnish'::regconfig ELSE 'english'::regconfig END, coalesce(title, '')), 'A')
        || setweight(to_tsvector(CASE WHEN language = 'fi' THEN 'finnish'::regconfig ELSE 'english'::regconfig END, coalesce(tags_text, '')), 'B')
        || setweight(to_tsvector(CASE WHEN language = 'fi' THEN 'finnish'::regconfig ELSE 'english'::regconfig END, coalesce(left(text, 200000), '')), 'C')
    ) STORED
    """,
    "CREATE INDEX knowledge_article_search ON knowledge_article USING gin (search_vector)",
    "CREATE INDEX knowledge_word_trgm ON knowledge_word USING gin (word gin_trgm_ops)",
]
# Title and tags alone: a small second index, so the best candidates of a broad query are found cheaply.
PG_TITLE_INDEX_SQL = [
    """
    ALTER TABLE knowledge_article ADD COLUMN title_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector(CASE WHEN language = 'fi' THEN 'finnish'::regconfig ELSE 'english'::regconfig END, coalesce(title, '')), 'A')
        || setweight(to_tsvector(CASE WHEN language = 'fi' THEN 'finnish'::regconfig ELSE 'english'::regconfig END, coalesce(tags_text, '')), 'B')
    ) STORED
    """,
    "CREATE INDEX knowledge_article_title_search ON knowledge_article USING gin (title_vector)",
    # Nearest-word lookups for typo suggestions walk a GiST index in similarity order (KNN).
    "DROP INDEX IF EXISTS knowledge_word_trgm",
    "CREATE INDEX knowledge_word_trgm_gist ON knowledge_word USING gist (word gist_trgm_ops)",
]
PG_TITLE_INDEX_REVERSE_SQL = [
    "DROP INDEX IF EXISTS knowledge_word_trgm_gist",
    "CREATE INDEX IF NOT EXISTS knowledge_word_trgm ON knowledge_word USING gin (word gin_trgm_ops)",
    "DROP INDEX IF EXISTS knowledge_article_title_search",
    "ALTER TABLE knowledge_article DROP COLUMN IF EXISTS title_vector",
]
PG_INDEX_REVERSE_SQL = [
    "DROP INDEX IF EXISTS knowledge_word_trgm",
    "DROP INDEX IF EXISTS knowledge_article_search",
    "ALTER TABLE knowledge_article DROP COLUMN IF EXISTS search_vector",
]
_SQLITE_COLUMNS = "title, tags_text, text"
SQLITE_TRIGGERS = {
    "knowledge_article_fts_ai": f"""CREATE TRIGGER IF NOT EXISTS knowledge_article_fts_ai AFTER INSERT ON knowledge_article BEGIN
        INSERT INTO {_FTS_TABLE}(rowid, {_SQLITE_COLUMNS}) VALUES (new.id, new.title, new.tags_text, new.text); END""",  # noqa: S608
    "knowledge_article_fts_ad": f"""CREATE TRIGGER IF NOT EXISTS knowledge_article_fts_ad AFTER DELETE ON knowledge_article BEGIN
        INSERT INTO {_FTS_TABLE}({_FTS_TABLE}, rowid, {_SQLITE_COLUMNS}) VALUES ('delete', old.id, old.title, old.tags_text, old.text); END""",  # noqa: S608
    "knowledge_article_fts_au": f"""CREATE TRIGGER IF NOT EXISTS knowledge_article_fts_au AFTER UPDATE ON knowledge_article BEGIN
        INSERT INTO {_FTS_TABLE}({_FTS_TABLE}, rowid, {_SQLITE_COLUMNS}) VALUES ('delete', old.id, old.title, old.tags_text, old.text);
        INSERT INTO {_FTS_TABLE}(rowid, {_SQLITE_COLUMNS}) VALUES (new.id, new.title, new.tags_text, new.text); END""",  # noqa: S608
}


def ensure_sqlite_index(using_connection=None) -> None:
    """Create the FTS5 table and its triggers when missing, and rebuild it if triggers had gone.

    Runs after every `migrate` (post_migrate): SQLite migrations that alter a table rebuild it and drop its
    triggers, so they are checked every time rather than created once.
    """
    conn = using_connection or connection
    if conn.vendor != "sqlite":
        return
    with conn.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'trigger') AND name LIKE 'knowledge_article%'")
        existing = {row[0] for row in cursor.fetchall()}
        if "knowledge_article" not in existing:
            return
        missing = [name for name in SQLITE_TRIGGERS if name not in existing]
        if _FTS_TABLE not in existing:
            cursor.execute(
                f"CREATE VIRTUAL TABLE {_FTS_TABLE} USING fts5({_SQLITE_COLUMNS}, content='knowledge_article', "
                "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
            )
        for name in missing:
            cursor.execute(SQLITE_TRIGGERS[name])
        if missing or _FTS_TABLE not in existing:
            cursor.execute(f"INSERT INTO {_FTS_TABLE}({_FTS_TABLE}) VALUES ('rebuild')")  # noqa: S608
