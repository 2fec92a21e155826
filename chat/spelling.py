"""Server-side spelling suggestions from `pyspellchecker` dictionaries.

pyspellchecker ships no Finnish dictionary (it has en, es, fr, pt, de, it, ru, ar, eu, lv, nl, fa): for
Finnish only the browser's own `spellcheck` runs and this answers `available: false`.
"""

from __future__ import annotations

import re
import threading
from functools import lru_cache
from typing import Any

WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)
SUPPORTED = ("en", "es", "fr", "pt", "de", "it", "ru", "ar", "eu", "lv", "nl", "fa")
_lock = threading.Lock()


def available(language: str) -> bool:
    return language[:2].lower() in SUPPORTED


@lru_cache(maxsize=4)
def _checker(language: str):
    from spellchecker import SpellChecker

    return SpellChecker(language=language)


def suggestions(text: str, language: str, *, limit: int = 20) -> dict[str, Any]:
    """Misspelled words of `text` with up to five corrections each."""
    language = language[:2].lower()
    if not available(language):
        return {"language": language, "available": False, "misspelled": []}
    words = [w for w in dict.fromkeys(WORD.findall(text[:10000])) if len(w) > 1 and not w.isupper()]
    with _lock:  # SpellChecker is not documented as thread-safe
        checker = _checker(language)
        unknown = checker.unknown([w.lower() for w in words])
        result = []
        for word in words:
            if word.lower() in unknown:
                candidates = sorted(checker.candidates(word.lower()) or (), key=lambda c: -checker.word_usage_frequency(c))
                result.append({"word": word, "suggestions": [c for c in candidates if c != word.lower()][:5]})
            if len(result) >= limit:
                break
    return {"language": language, "available": True, "misspelled": result}
