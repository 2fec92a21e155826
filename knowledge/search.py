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
    rows, total = backend(tokens, match, visibilities, language, category_id, limit, offset)
    result = SearchResult(total=total)
    if rows:
        articles = Article.objects.select_related("category").in_bulk([r[0] for r in rows])
        for article_id, rank, snippet in rows:
            article = articles.get(article_id)
            if article is not None:
                result.hits.append(Hit(article, float(rank), _marked_to_html(snippet), highlight(article.title, tokens)))
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


def index_words(texts: list[str]) -> None:
    """Add the words of published articles to the suggestion vocabulary."""
    words = {w for text in texts for w in tokenize(text) if 3 <= len(w) <= 40 and not w.isdigit()}
    if words:
        Word.objects.bulk_create([Word(word=w) for w in sorted(words)], ignore_conflicts=True, batch_size=1000)


# --------------------------------------------------------------------------------------------- backends


def _postgres(tokens, match, visibilities, language, category_id, limit, offset):
    tsquery_text = _pg_query_text(tokens, match)
    if language in ("fi", "en"):
        tsq = "to_tsquery(%s::regconfig, %s)"
        tsq_params = ["finnish" if language == "fi" else "english", tsquery_text]
    else:
        tsq = "(to_tsquery('english', %s) || to_tsquery('finnish', %s))"
        tsq_params = [tsquery_text, tsquery_text]
    where, params = _filters("a", visibilities, language, category_id)
    # Only constant SQL fragments are interpolated; every value is a parameter.
    sql = f"""
        WITH q AS (SELECT {tsq} AS query)
        SELECT a.id, ts_rank_cd(a.search_vector, q.query, 32) AS rank, count(*) OVER () AS total
        FROM knowledge_article a, q
        WHERE a.search_vector @@ q.query AND {where}
        ORDER BY rank DESC, a.views DESC, a.id
        LIMIT %s OFFSET %s
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*tsq_params, *params, limit, offset])
        ranked = cursor.fetchall()
        if not ranked:
            return [], 0
        options = f"StartSel={START}, StopSel={STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=\" … \""
        cursor.execute(
            f"""
            SELECT a.id, ts_headline(
                CASE WHEN a.language = 'fi' THEN 'finnish'::regconfig ELSE 'english'::regconfig END,
                left(a.text, 20000), {tsq}, %s)
            FROM knowledge_article a WHERE a.id = ANY(%s)
            """,  # noqa: S608
            [*tsq_params, options, [r[0] for r in ranked]],
        )
        snippets = dict(cursor.fetchall())
    return [(r[0], r[1], snippets.get(r[0], "")) for r in ranked], ranked[0][2]


def _pg_query_text(tokens: list[str], match: str) -> str:
    quoted = [f"'{t}'" for t in tokens]  # tokens are \w+ only: no quotes or operators inside
    if match == "any":
        return " | ".join(quoted)
    quoted[-1] += ":*"
    return " & ".join(quoted)


def _sqlite(tokens, match, visibilities, language, category_id, limit, offset):
    quoted = [f'"{t}"' for t in tokens]
    if match == "any":
        fts_query = " OR ".join(quoted)
    else:
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
            return [], 0
        cursor.execute(f"SELECT count(*) {base}", [fts_query, *params])
        total = cursor.fetchone()[0]
    return rows, total


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
                "SELECT word FROM knowledge_word WHERE word %% %s ORDER BY similarity(word, %s) DESC, length(word), word LIMIT 1",
                [token, token],
            )
            row = cursor.fetchone()
        return row[0] if row else ""
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
