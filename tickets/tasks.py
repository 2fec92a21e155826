"""Celery tasks of the ticket stream. Tasks take ids and call services."""

from __future__ import annotations

from celery import shared_task

from .adapters import TransientSendError


@shared_task(bind=True, acks_late=True, max_retries=8, autoretry_for=(TransientSendError,), retry_backoff=5, retry_backoff_max=600, retry_jitter=True)
def deliver_message(self, message_id: int) -> None:
    """Send a queued outbound message through its channel's adapter (idempotent: sent messages are skipped)."""
    from .services import deliver_now

    deliver_now(message_id)


@shared_task(ignore_result=True)
def run_event_batch(notes: list) -> None:
    """Feature listeners of a batch of ticket events, in the order they were published: [[kind, data], ...]."""
    from .events import listener_batch, run_listeners

    with listener_batch(notes):
        for kind, data in notes:
            run_listeners(kind, data)
