"""What the agent sees first: a reply without the quoted conversation and the sender's signature.

Pure functions on text and HTML. The whole original is kept elsewhere (`full_text`); when in doubt nothing
is cut: an inline ("interleaved") reply keeps its quotes, and a message that would become empty stays whole.
"""

from __future__ import annotations

import re

# "On Mon, 3 Mar 2025 at 09:47, Olivia <o@example.org> wrote:" and the same line in other languages.
# Only the end of the attribution line is matched: the date formats before it are endless.
_WROTE = (
    r"wrote|writes|schrieb|schreef|a écrit|escribió|escreveu|ha scritto|skrev|skriver|kirjoitti|napisał|"
    r"napsal|írta|написал|написала|пишет|yazdı|έγραψε|scrise|kirjutas|rašė|rakstīja|napisao|je napisal|"
    r"heeft geschreven|het geskryf|a scris|の投稿|のメッセージ|写道|寫道|님이 작성"
)
WROTE_LINE = re.compile(rf"^\s*>?\s*(?:\S.*)?(?:{_WROTE})\s*:\s*$", re.IGNORECASE)
WROTE_START = re.compile(r"^\s*>?\s*(on|am|le|el|il|op|den|dne|em|w dniu|ti|ma|ke|to|pe|la|su|sø|lø|fr|sa|man|tir|ons|tor|fre|lør|søn)\b", re.IGNORECASE)

ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|ursprüngliche nachricht|alkuperäinen viesti|message d'origine|"
    r"mensaje original|messaggio originale|oorspronkelijk bericht|originalmeddelande|opprinnelig melding|"
    r"oprindelig meddelelse|исходное сообщение|mensagem original|wiadomość oryginalna)\s*-{2,}\s*$",
    re.IGNORECASE,
)
# Outlook without a separator line: "From: ..." followed by "Sent:"/"Date:" and "To:"/"Subject:".
HEADER_FROM = re.compile(r"^\s*\*?(from|von|lähettäjä|de|da|van|från|fra|от|od)\s*:\*?\s", re.IGNORECASE)
HEADER_OTHER = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|lähetetty|päivämäärä|envoyé|enviado|fecha|inviato|verzonden|skickat|"
    r"sendt|отправлено|to|an|vastaanottaja|à|para|a|aan|till|til|кому|subject|betreff|aihe|objet|asunto|"
    r"oggetto|onderwerp|ämne|emne|тема|cc)\s*:\*?\s",
    re.IGNORECASE,
)
OUTLOOK_RULE = re.compile(r"^\s*_{20,}\s*$")
SIGNATURE = re.compile(r"^(-- ?|--|__|—)\s*$")
MOBILE_SIGNATURE = re.compile(
    r"^\s*(sent from my \w+|sent from (?:outlook|mail) for \w+|get outlook for \w+|sent from yahoo mail.*|"
    r"von meinem \w+ gesendet|gesendet von meinem \w+|lähetetty \w+(?:sta|stä)|envoyé de mon \w+|"
    r"enviado desde mi \w+|inviato da \w+|skickat från min \w+|verzonden met mijn \w+|"
    r"отправлено с \w+)\s*\.?\s*$",
    re.IGNORECASE,
)

# HTML markers mail clients put where the quoted conversation starts.
HTML_QUOTE_MARKERS = [
    re.compile(r"<div[^>]*class=[\"']?[^\"'>]*\bgmail_quote", re.I),
    re.compile(r"<blockquote[^>]*type=[\"']?cite", re.I),
    re.compile(r"<div[^>]*class=[\"']?[^\"'>]*\bmoz-cite-prefix", re.I),
    re.compile(r"<div[^>]*id=[\"']?(appendonsend|divRplyFwdMsg|mail-editor-reference-message-container)\b", re.I),
    re.compile(r"<div[^>]*class=[\"']?[^\"'>]*\b(yahoo_quoted|OutlookMessageHeader|zmail_extra)\b", re.I),
    re.compile(r"<hr[^>]*id=[\"']?stopSpelling", re.I),
    # Outlook desktop: the reply header sits in a div with a thin top border.
    re.compile(r"<div[^>]*style=[\"'][^\"']*border-top:\s*solid\s+#(?:E1E1E1|B5C4DF)", re.I),
    re.compile(r"-{3,}\s*Original Message\s*-{3,}", re.I),
    # Signatures some clients mark up.
    re.compile(r"<div[^>]*class=[\"']?[^\"'>]*\b(gmail_signature|moz-signature)\b", re.I),
]


def strip_text(text: str) -> str:
    """The new part of a reply: quotes, attribution line and signature removed. Never returns empty
    for a non-empty message (then the whole text is returned)."""
    lines = text.splitlines()
    cut = _cut_index(lines)
    if cut is None:
        return text.strip()
    visible = "\n".join(lines[:cut]).strip()
    return visible or text.strip()


def has_quote(text: str) -> bool:
    """Whether the text quotes an earlier message (a signature alone does not count)."""
    return _quote_start(text.splitlines()) is not None


def strip_html(html: str) -> str:
    """The HTML before the first quote marker (sanitizing afterwards closes any tag left open)."""
    positions = [m.start() for pattern in HTML_QUOTE_MARKERS if (m := pattern.search(html))]
    if not positions:
        return html
    return html[: min(positions)]


def _cut_index(lines: list[str]) -> int | None:
    candidates = [i for i in (_quote_start(lines), _signature_start(lines)) if i is not None]
    return min(candidates) if candidates else None


def _quote_start(lines: list[str]) -> int | None:
    # An attribution line ends with ":"; WROTE_LINE backtracks through every word of a line for each of its
    # languages, so it only runs where a line of the span does (most of a message's parsing time otherwise).
    colon = [line.rstrip().endswith(":") for line in lines]
    for i, line in enumerate(lines):
        if ORIGINAL_MESSAGE.match(line):
            return i
        if OUTLOOK_RULE.match(line) and _header_block(lines, i + 1):
            return i
        if HEADER_FROM.match(line) and _header_block(lines, i):
            return i
        for span in (1, 2, 3):  # attribution lines are often wrapped by the sender's client
            if not any(colon[i : i + span]):
                continue
            joined = " ".join(part.strip().lstrip(">").strip() for part in lines[i : i + span])
            if WROTE_LINE.match(joined) and (span == 1 or WROTE_START.match(lines[i])) and _only_quotes_after(lines, i + span):
                return i
    return _trailing_quote(lines)


def _header_block(lines: list[str], start: int) -> bool:
    """An Outlook-style "From:/Sent:/To:/Subject:" block starts at `start`."""
    if start >= len(lines) or not HEADER_FROM.match(lines[start]):
        return False
    following = [line for line in lines[start + 1 : start + 6] if line.strip()]
    return sum(1 for line in following if HEADER_OTHER.match(line)) >= 2


def _only_quotes_after(lines: list[str], start: int) -> bool:
    """Everything after an attribution line is quoted (or blank): the reply is on top, not interleaved."""
    rest = [line for line in lines[start:] if line.strip()]
    if not rest:
        return True
    quoted = [line for line in rest if line.lstrip().startswith(">")]
    if len(quoted) == len(rest):
        return True
    # Clients that do not prefix quotes ("On ... wrote:" followed by the plain original): accept when the
    # attribution line is the last thing the sender wrote, i.e. nothing quoted is answered in between.
    return not quoted


def _trailing_quote(lines: list[str]) -> int | None:
    """A block of ">" lines at the very end (a reply on top without an attribution line)."""
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start > 0 and (lines[start - 1].lstrip().startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if start < end and start > 0 and any(lines[j].lstrip().startswith(">") for j in range(start, end)):
        return start
    return None


def _signature_start(lines: list[str]) -> int | None:
    for i, line in enumerate(lines):
        if i == 0:
            continue
        if SIGNATURE.match(line) and len(lines) - i <= 15:
            return i
        if MOBILE_SIGNATURE.match(line):
            return i
    return None
