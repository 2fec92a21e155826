"""Demo data: business hours per team, SLA policies, macros and a few automation rules."""

from __future__ import annotations

from tickets.models import ACTIVE_STATUSES, Team, Ticket

from .models import AutomationRule, BusinessHours, Macro, SlaPolicy
from .sla import recompute

WEEK = {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def seed(stdout) -> None:
    teams = {t.name: t for t in Team.objects.filter(name__in=["Support", "Billing"])}
    if "Support" in teams:
        BusinessHours.objects.get_or_create(team=teams["Support"], defaults={"name": "Support (Helsinki)", "timezone": "Europe/Helsinki", "schedule": WEEK})
    if "Billing" in teams:
        BusinessHours.objects.get_or_create(team=teams["Billing"], defaults={"name": "Billing (New York)", "timezone": "America/New_York", "schedule": {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}})
    if not SlaPolicy.objects.exists():
        SlaPolicy.objects.create(name="Urgent", position=0, priority="urgent", first_response_minutes=30, next_response_minutes=60, resolution_minutes=4 * 60)
        SlaPolicy.objects.create(name="Live channels", position=1, channel="chat", first_response_minutes=5, next_response_minutes=10, resolution_minutes=8 * 60)
        SlaPolicy.objects.create(name="Standard", position=10, first_response_minutes=4 * 60, next_response_minutes=8 * 60, resolution_minutes=3 * 8 * 60)
    if not Macro.objects.exists():
        Macro.objects.create(name="Ask for order number", shortcut="o", actions=[{"reply": "Could you send us your order number, please?"}, {"set_status": "pending"}])
        Macro.objects.create(name="Escalate", shortcut="e", actions=[{"set_priority": "urgent"}, {"add_tag": "escalated"}, {"note": "Escalated to tier 2."}])
        Macro.objects.create(name="Close as spam", actions=[{"add_tag": "spam"}, {"set_status": "closed"}])
    if not AutomationRule.objects.exists() and "Billing" in teams:
        AutomationRule.objects.create(name="Invoices go to Billing", position=0, trigger="message.received", conditions={"text_contains": "invoice"}, actions=[{"set_team": teams["Billing"].pk}, {"add_tag": "invoice"}])
        AutomationRule.objects.create(name="VIP customers are high priority", position=1, trigger="ticket.created", conditions={"contact_attributes": {"plan": "vip"}}, actions=[{"set_priority": "high"}])
        AutomationRule.objects.create(name="Escalate before an SLA breach", position=2, trigger="sla.warning", actions=[{"add_tag": "sla-risk"}, {"notify": "team"}])
        AutomationRule.objects.create(name="Nudge silent customers", position=3, trigger="customer.idle", idle_minutes=3 * 24 * 60, conditions={"status": ["pending"]}, actions=[{"reply": "Just checking in: is there anything else we can help with?"}])
    active = Ticket.objects.filter(status__in=ACTIVE_STATUSES, merged_into__isnull=True).values_list("pk", flat=True)[:1000]
    for ticket_id in active:
        recompute(ticket_id)
    stdout.write("Workflows: business hours, SLA policies, macros, automation rules.")
