"""HTML from customers is made inert here before it is stored or shown anywhere."""

from __future__ import annotations

import html as html_lib
import re

import nh3

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th",
    "thead", "tr", "u", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# cid: images are rewritten to attachment URLs by the mail app; remote images stay out (tracking pixels).
URL_SCHEMES = {"http", "https", "mailto", "tel", "cid"}
MAX_HTML_CHARS = 2_000_000


def sanitize_html(value: str) -> str:
    """Keep formatting, drop scripts, event handlers, styles, forms, and javascript: URLs."""
    if not value:
        return ""
    if len(value) > MAX_HTML_CHARS:
        # Bounded work: very large HTML is kept as escaped text instead of parsed.
        return "<pre>" + html_lib.escape(value[:MAX_HTML_CHARS]) + "</pre>"
    return nh3.clean(
        value,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        clean_content_tags={"script", "style"},
    )


_BLOCK_END = re.compile(r"</(p|div|li|tr|h[1-6]|blockquote|pre|table)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")


def html_to_text(value: str) -> str:
    """A readable text version of (sanitized) HTML."""
    text = _BLOCK_END.sub("\n", sanitize_html(value))
    text = html_lib.unescape(_TAG.sub("", text))
    lines = [line.strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
