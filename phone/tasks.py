"""Celery tasks of the phone app: they take ids and call services."""

from __future__ import annotations

from celery import shared_task


class MediaPending(Exception):
    """Some media of an inbound message could not be downloaded yet."""


@shared_task(bind=True, acks_late=True, max_retries=6, autoretry_for=(MediaPending,), retry_backoff=30, retry_jitter=True)
def fetch_pending_media(self, message_id: int) -> None:
    """Download media that failed on arrival (idempotent: fetched media leaves the pending list)."""
    from .services import attach_pending_media

    if attach_pending_media(message_id):
        raise MediaPending(f"message {message_id}")
