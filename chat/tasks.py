from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def expire_offers() -> int:
    from .assignment import expire_offers as expire

    return expire()
