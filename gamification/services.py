"""Awarding points and badges. Each award is stored once per cause (unique agent+reason+ref), so replaying an
event or a retried task never double-counts; the running total is a cache of the awards' sum."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone, translation
from django.utils.translation import gettext

from tickets.events import send_to_groups
from tickets.models import Channel, Direction, Message, Status, Team, Ticket

from .models import AgentBadge, Award, Badge, Criterion, Level, PointRule, Reason, Score

log = logging.getLogger(__name__)

RESOLVED = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Granted:
    award: Award | None
    total: int
    badges: tuple[Badge, ...]


def rule_for(reason: str) -> PointRule | None:
    return PointRule.objects.filter(reason=reason, active=True).first()


def award(
    *, agent_id: int, reason: str, ref: str, ticket_id: int | None = None, points: int | None = None,
    note: str = "", at: datetime | None = None, notify: bool = True,
) -> Granted | None:
    """Grant the rule's points (or `points`) for `reason` once per `ref`. None when nothing was granted
    (no active rule, or this cause was already awarded)."""
    if points is None:
        rule = rule_for(reason)
        if rule is None or rule.points == 0:
            return None
        points = rule.points
    try:
        with transaction.atomic():
            row = Award.objects.create(
                agent_id=agent_id, reason=reason, ref=ref[:64], ticket_id=ticket_id, points=points,
                note=note[:200], created_at=at or timezone.now(),
            )
            total = _add_to_total(agent_id, points)
    except IntegrityError:
        return None  # already awarded for this cause (or the agent is gone)
    badges = tuple(evaluate_badges(agent_id=agent_id))
    if notify:
        notify_points(agent_id=agent_id, delta=points, total=total, reason=reason, ticket_id=ticket_id, badges=badges)
    return Granted(row, total, badges)


def evaluate_badges(*, agent_id: int) -> list[Badge]:
    """Award every active badge whose criterion the agent now meets and does not hold yet (once each)."""
    held = set(AgentBadge.objects.filter(agent_id=agent_id).values_list("badge_id", flat=True))
    earned = []
    for badge in Badge.objects.filter(active=True).exclude(pk__in=held):
        if _meets(badge, agent_id):
            _, created = AgentBadge.objects.get_or_create(agent_id=agent_id, badge=badge)
            if created:
                earned.append(badge)
    return earned


def check_badges(*, agent_id: int) -> list[Badge]:
    """Evaluate badges outside an award (e.g. after a survey) and tell the agent about new ones."""
    badges = evaluate_badges(agent_id=agent_id)
    if badges:
        notify_points(agent_id=agent_id, delta=0, total=total_points(agent_id), reason="", ticket_id=None, badges=tuple(badges))
    return badges


def total_points(agent_id: int) -> int:
    return Score.objects.filter(agent_id=agent_id).values_list("total", flat=True).first() or 0


def level_for(total: int, levels: list[Level] | None = None) -> Level | None:
    levels = list(Level.objects.all()) if levels is None else levels
    reached = [lv for lv in levels if lv.min_points <= total]
    return reached[-1] if reached else None


def notify_points(*, agent_id: int, delta: int, total: int, reason: str, ticket_id: int | None, badges: tuple[Badge, ...] = ()) -> None:
    """`points` frame to the agent (CONTRACT) and a `leaderboard` nudge to every board's viewers."""
    frame: dict = {"type": "points", "delta": delta, "total": total, "reason": reason, "reason_label": str(Reason(reason).label) if reason else "", "ticket": ticket_id}
    level = level_for(total)
    frame["level"] = level.name if level else ""
    if badges:
        frame["badge"] = {"slug": badges[0].slug, "name": badges[0].name, "description": badges[0].description}
        frame["badges"] = [{"slug": b.slug, "name": b.name} for b in badges]
    frame["message"] = _points_message(agent_id, frame, badges)
    send_to_groups([f"agent.{agent_id}"], frame)
    groups = [f"team.{tid}" for tid in Team.objects.values_list("id", flat=True)] + ["admins"]
    send_to_groups(groups, {"type": "leaderboard", "agent": agent_id, "delta": delta})


def recompute_totals() -> dict[int, tuple[int, int]]:
    """Rebuild every agent's total from the stored awards. Returns {agent id: (old, new)} for totals that changed."""
    sums = dict(Award.objects.values("agent_id").annotate(s=Sum("points")).values_list("agent_id", "s"))
    changed: dict[int, tuple[int, int]] = {}
    with transaction.atomic():
        current = dict(Score.objects.select_for_update().values_list("agent_id", "total"))
        for agent_id in set(current) | set(sums):
            new, old = sums.get(agent_id, 0), current.get(agent_id)
            if old != new:
                changed[agent_id] = (old or 0, new)
        Score.objects.filter(agent_id__in=[a for a in changed if a in current]).delete()
        Score.objects.bulk_create([Score(agent_id=a, total=new) for a, (_old, new) in changed.items()])
    return changed


def replay_tickets(*, since: datetime) -> int:
    """Create the ticket awards that are missing for tickets touched since `since` (events lost while a
    listener failed, or rules added later). Idempotent: existing awards are kept. Returns awards created."""
    created = 0
    rule = rule_for(Reason.FIRST_RESPONSE)
    if rule is not None and rule.target_seconds is not None:
        first_author = Message.objects.filter(ticket=OuterRef("pk"), direction=Direction.OUTBOUND, is_bot=False, author_agent__isnull=False).order_by("created_at", "id").values("author_agent")[:1]
        rows = (
            Ticket.objects.filter(first_response_at__gte=since, first_response_at__lte=F("created_at") + timedelta(seconds=rule.target_seconds))
            .annotate(responder=Subquery(first_author)).filter(responder__isnull=False)
            .values_list("pk", "responder", "first_response_at")
        )
        created += _bulk_award(Reason.FIRST_RESPONSE, rule.points, [(resp, f"ticket:{pk}", pk, at) for pk, resp, at in rows])
    for reason, channel_q in ((Reason.CHAT_RESOLVED, Q(channel=Channel.CHAT)), (Reason.TICKET_RESOLVED, ~Q(channel=Channel.CHAT))):
        rule = rule_for(reason)
        if rule is None:
            continue
        rows = Ticket.objects.filter(channel_q, status__in=RESOLVED, resolved_at__gte=since, assignee__isnull=False).values_list("pk", "assignee_id", "resolved_at")
        created += _bulk_award(reason, rule.points, [(agent, f"ticket:{pk}", pk, at) for pk, agent, at in rows])
    return created


# ---------------------------------------------------------------- helpers


def _points_message(agent_id: int, frame: dict, badges: tuple[Badge, ...]) -> str:
    """The toast text, in the receiving agent's language (the event may come from someone else's request)."""
    from tickets.models import AgentProfile

    language = AgentProfile.objects.filter(user_id=agent_id).values_list("language", flat=True).first() or settings.LANGUAGE_CODE
    with translation.override(language):
        parts = []
        if frame["delta"]:
            reason = str(Reason(frame["reason"]).label) if frame["reason"] else ""
            parts.append(gettext("%(delta)+d points: %(reason)s. Total %(total)d.") % {"delta": frame["delta"], "reason": reason, "total": frame["total"]})
        for badge in badges:
            parts.append(gettext("New badge: %(name)s") % {"name": badge.name})
        return " ".join(parts)


def _add_to_total(agent_id: int, points: int) -> int:
    Score.objects.bulk_create([Score(agent_id=agent_id, total=0)], ignore_conflicts=True)
    Score.objects.filter(agent_id=agent_id).update(total=F("total") + points)
    return Score.objects.get(agent_id=agent_id).total


def _bulk_award(reason: str, points: int, rows: list[tuple[int, str, int, datetime]]) -> int:
    if not rows:
        return 0
    before = Award.objects.filter(reason=reason).count()
    Award.objects.bulk_create(
        [Award(agent_id=a, reason=reason, ref=ref, ticket_id=t, points=points, created_at=at, note="replayed") for a, ref, t, at in rows],
        ignore_conflicts=True, batch_size=1000,
    )
    return Award.objects.filter(reason=reason).count() - before


def _meets(badge: Badge, agent_id: int) -> bool:
    threshold = badge.threshold
    if badge.criterion == Criterion.POINTS:
        return total_points(agent_id) >= threshold
    if badge.criterion in (Criterion.CHATS_RESOLVED, Criterion.TICKETS_RESOLVED):
        qs = Ticket.objects.filter(assignee_id=agent_id, status__in=RESOLVED)
        if badge.criterion == Criterion.CHATS_RESOLVED:
            qs = qs.filter(channel=Channel.CHAT)
        return qs.count() >= threshold
    if badge.criterion == Criterion.FAST_FIRST_RESPONSES:
        limit = timedelta(seconds=badge.seconds or 0)
        return Ticket.objects.filter(assignee_id=agent_id, first_response_at__isnull=False, first_response_at__lte=F("created_at") + limit).count() >= threshold
    if badge.criterion == Criterion.WEEKLY_CSAT:
        return _weekly_csat(agent_id, float(threshold), badge.minimum)
    return False


def _weekly_csat(agent_id: int, threshold: float, minimum: int) -> bool:
    try:
        Survey = apps.get_model("feedback", "Survey")
    except LookupError:
        return False
    weeks = (
        Survey.objects.filter(agent_id=agent_id, answered_at__isnull=False, rating__isnull=False)
        .annotate(week=TruncWeek("answered_at")).values("week")
        .annotate(n=Count("id"), avg=Avg("rating")).filter(n__gte=max(minimum, 1), avg__gte=threshold)
    )
    return weeks.exists()


def agents():
    """Active users who are agents (have a profile)."""
    return get_user_model().objects.filter(is_active=True, agent__isnull=False)
