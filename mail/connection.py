"""The outgoing mail connection from EMAIL_URL (CONTRACT), or files under var/outbox/ when unset."""

from __future__ import annotations

from urllib.parse import unquote, urlparse

from django.conf import settings


def email_backend_kwargs(url: str | None = None) -> dict:
    url = settings.EMAIL_URL if url is None else url
    if not url:
        settings.EMAIL_OUTBOX_DIR.mkdir(parents=True, exist_ok=True)
        return {"backend": "django.core.mail.backends.filebased.EmailBackend", "file_path": str(settings.EMAIL_OUTBOX_DIR)}
    if url.startswith("locmem:"):
        return {"backend": "django.core.mail.backends.locmem.EmailBackend"}
    parsed = urlparse(url)
    scheme = parsed.scheme.lower()
    if scheme not in {"smtp", "smtp+tls", "smtps"}:
        raise ValueError(f"EMAIL_URL scheme must be smtp, smtp+tls or smtps, not {scheme!r}")
    return {
        "backend": "django.core.mail.backends.smtp.EmailBackend",
        "host": parsed.hostname or "localhost",
        "port": parsed.port or (465 if scheme == "smtps" else 587 if scheme == "smtp+tls" else 25),
        "username": unquote(parsed.username or ""),
        "password": unquote(parsed.password or ""),
        "use_tls": scheme == "smtp+tls",
        "use_ssl": scheme == "smtps",
        "timeout": 30,
    }
