from __future__ import annotations

from celery import shared_task

from .delivery import deliver_link


@shared_task(autoretry_for=(OSError,), retry_backoff=30, max_retries=5, acks_late=True)
def send_survey_link(survey_id: int) -> str:
    """Idempotent: sends once, and only while the survey is unanswered and unexpired."""
    return deliver_link(survey_id)
