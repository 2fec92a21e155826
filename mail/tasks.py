"""Celery tasks of the mail app: thin, by id. Polling is idempotent, so acks_late is safe."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from .imap import ImapError, poll
from .models import Mailbox

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True)
def poll_mailbox(mailbox_id: int) -> dict:
    """Fetch and ingest new mail of one mailbox (skipped when another worker is at it)."""
    try:
        result = poll(mailbox_id)
    except Mailbox.DoesNotExist:
        return {"error": "no such mailbox"}
    except ImapError as exc:  # recorded on the mailbox; beat tries again on the next interval
        return {"error": str(exc)}
    return {"fetched": result.fetched, "stored": result.stored, "ignored": result.ignored, "skipped": result.skipped}


@shared_task(ignore_result=True)
def poll_due() -> int:
    """Beat's entry point: queue a poll for every active mailbox whose interval has passed."""
    now = timezone.now()
    ids = [
        pk
        for pk, last, interval in Mailbox.objects.filter(active=True).values_list("pk", "last_polled_at", "poll_interval")
        if last is None or last <= now - timedelta(seconds=max(interval, 5))
    ]
    for mailbox_id in ids:
        poll_mailbox.delay(mailbox_id)
    return len(ids)
