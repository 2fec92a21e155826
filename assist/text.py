"""Language-aware text processing: language guess, tokens with stop words removed, Snowball stems.

English and Finnish are stemmed with PyStemmer (Snowball); anything else falls back to English stems.
Pure functions, no I/O.
"""

from __future__ import annotations

import re
import threading

import Stemmer

LANGUAGES = ("en", "fi")
FI_PREFIX = 5
_STEMMER_NAMES = {"en": "english", "fi": "finnish"}

_WORD = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOP_WORDS = {
    "en": _words(
        """a about above after again against all am an and any are as at be because been before being below
        between both but by can could did do does doing down during each few for from further had has have having
        he her here hers herself him himself his how i if in into is it its itself just me more most my myself no
        nor not now of off on once only or other our ours ourselves out over own same she should so some such than
        that the their theirs them themselves then there these they this those through to too under until up very
        was we were what when where which while who whom why will with would you your yours yourself yourselves
        hi hello hey thanks thank please regards dear im ive dont cant get got"""
    ),
    "fi": _words(
        """ja on ei en et emme se että ole oli olen olet olla ovat mutta kun niin jos vain myös kuin mitä mikä missä miten
        minä sinä hän me te he minun sinun hänen meidän teidän heidän minulla minulle minua sinulla sinulle tämä
        tuo nämä nuo joka jotka tai sekä nyt jo vielä kanssa ovat oli olisi voi voisin voisitteko voitteko
        hei moi kiitos kiitoksia terveisin ystävällisin yt t terv mun mulla mulle mä"""
    ),
}

# Frequent words that make a language guess easy; the accents alone are a strong Finnish signal.
_MARKERS = {
    "en": _words("the and is are my i you to of it not can how what with have please thanks"),
    "fi": _words(
        "ja on ei en se että ole mun minun miten mitä voi kiitos hei tilaus salasana lasku kun en ole"
    ),
}

_FI_SHAPE = re.compile(r"(aa|ee|ii|uu|yy|ää|öö|(ssa|ssä|sta|stä|lla|llä|lta|ltä|lle|ksi|nsa|nsä|ni|si|mme|tte|vat|vät|ko|kö|aan|ään|uun|iin|ista|inen|isen)$)")
_EN_SHAPE = re.compile(r"(th|wh|ck|sh|w|c|x|q|(ing|ed|tion|ly|ness|ment|able|ful|ous)$)")

_local = threading.local()


def detect_language(text: str) -> str:
    """'fi' or 'en': a vote of frequent words, å/ä/ö, and Finnish word shapes (long vowels, case endings).
    Simple and fast; retrieval also matches the query's stems in the other language, so a wrong guess on a
    two-word question costs little."""
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return "en"
    fi = sum(w in _MARKERS["fi"] for w in words)
    en = sum(w in _MARKERS["en"] for w in words)
    accents = sum(text.lower().count(c) for c in "äöå")
    if accents:
        fi += 1 + min(accents, len(words)) / 2
    fi += sum(0.5 for w in words if len(w) > 4 and _FI_SHAPE.search(w))
    en += sum(0.5 for w in words if len(w) > 3 and _EN_SHAPE.search(w))
    return "fi" if fi > en else "en"


def tokens(text: str, language: str | None = None) -> list[str]:
    """Lower-cased, stop words removed, stemmed in `language` (guessed when None)."""
    language = language if language in LANGUAGES else detect_language(text)
    stop = STOP_WORDS[language]
    words = [w for w in (m.lower() for m in _WORD.findall(text)) if w not in stop and (len(w) > 1 or w.isdigit())]
    stems = _stemmer(language).stemWords(words)
    if language == "fi":
        # Finnish Snowball leaves many inflections apart (salasanani/salasanasi -> salas/salasan); a 5-letter
        # prefix beside the stem joins them while the full stem still rewards an exact match.
        stems = [p for s in stems for p in ((s, s[:FI_PREFIX]) if len(s) > FI_PREFIX else (s,))]
    return stems


def query_tokens(text: str) -> tuple[str, list[str]]:
    """(guessed language, stems of the question in that language followed by those in the other one)."""
    language = detect_language(text)
    other = "en" if language == "fi" else "fi"
    primary = tokens(text, language)
    extra = [t for t in tokens(text, other) if t not in primary]
    return language, primary + extra


def sentences(text: str) -> list[str]:
    """Split on sentence ends and line breaks; quoted lines ('>') and blanks dropped."""
    parts = (p.strip() for p in _SENTENCE.split(text or ""))
    return [p for p in parts if p and not p.startswith(">")]


def snippet(text: str, limit: int = 280) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",.;:") + "…"


def _stemmer(language: str) -> Stemmer.Stemmer:
    # Stemmer objects are not thread-safe: one per thread and language.
    cache = getattr(_local, "stemmers", None)
    if cache is None:
        cache = _local.stemmers = {}
    if language not in cache:
        cache[language] = Stemmer.Stemmer(_STEMMER_NAMES.get(language, "english"))
    return cache[language]
