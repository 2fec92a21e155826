"""Celery tasks of the Messenger app: they take ids and call services."""

from __future__ import annotations

from celery import shared_task


class AttachmentsPending(Exception):
    """Some attachments of an inbound message could not be downloaded yet."""


@shared_task(bind=True, acks_late=True, max_retries=5, autoretry_for=(AttachmentsPending,), retry_backoff=30, retry_jitter=True)
def fetch_failed_attachments(self, message_id: int) -> None:
    """Download attachments that failed on arrival (idempotent: fetched ones leave the list)."""
    from .services import attach_failed_attachments

    if attach_failed_attachments(message_id):
        raise AttachmentsPending(f"message {message_id}")
