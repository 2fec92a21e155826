"""Celery tasks of assist (scheduled in schedule.py). Idempotent: each rebuilds from the database."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True)
def train_classifiers() -> dict:
    from .classifier import train

    return train()


@shared_task(acks_late=True)
def rebuild_index() -> dict:
    from .indexing import rebuild

    return rebuild()
