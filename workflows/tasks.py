"""Celery tasks of workflows. They take ids and JSON and call the modules that do the work."""

from __future__ import annotations

import random

from celery import shared_task

from .webhooks import DeliveryError


@shared_task(acks_late=True)
def run_automations(trigger: str, ticket_id: int, event_key: str, depth: int = 0, message_id: int | None = None) -> list[int]:
    """Idempotent: each rule claims (rule, ticket, event) before it runs."""
    from .automation import run_rules

    return run_rules(trigger=trigger, ticket_id=ticket_id, event_key=event_key, depth=depth, message_id=message_id)


@shared_task
def check_sla() -> int:
    """Every minute: breaches of targets past due, warnings before."""
    from .sla import check_due

    return check_due()


@shared_task
def check_idle_customers() -> int:
    """Every minute: `customer.idle` rules for tickets whose customer has been silent long enough."""
    from .automation import idle_candidates
    from .models import AutomationRule, Trigger

    count = 0
    for rule in AutomationRule.objects.filter(active=True, trigger=Trigger.CUSTOMER_IDLE, idle_minutes__isnull=False):
        for ticket_id, key in idle_candidates(rule):
            run_automations_for_rule.delay(rule.pk, ticket_id, key)
            count += 1
    return count


@shared_task(acks_late=True)
def run_automations_for_rule(rule_id: int, ticket_id: int, event_key: str) -> list[int]:
    from .automation import run_rules
    from .models import Trigger

    return run_rules(trigger=Trigger.CUSTOMER_IDLE, ticket_id=ticket_id, event_key=event_key, rule_ids=[rule_id])


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_webhook(self, delivery_id: str) -> None:
    """One attempt; on a temporary failure retry with exponential backoff and jitter (30 s, 1 min, 2 min...)."""
    from .webhooks import MAX_ATTEMPTS, attempt

    try:
        attempt(delivery_id)
    except DeliveryError as exc:
        if self.request.retries + 1 >= MAX_ATTEMPTS:
            return
        countdown = min(30 * 2**self.request.retries, 3600) + random.uniform(0, 5)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task
def prune_logs(days: int = 30) -> int:
    """Daily: drop webhook deliveries and rule-run claims older than `days` (events that old never recur)."""
    from datetime import timedelta

    from django.utils import timezone

    from .models import RuleRun, WebhookDelivery

    cutoff = timezone.now() - timedelta(days=days)
    deliveries, _ = WebhookDelivery.objects.filter(created_at__lt=cutoff).delete()
    runs, _ = RuleRun.objects.filter(created_at__lt=cutoff).delete()
    return deliveries + runs
