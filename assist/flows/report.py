"""Flow reports: runs by outcome, deflection rate, per-step entries and drop-offs."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count
from django.utils import timezone

from ..models import Flow, FlowRun, RunStatus, StepVisit
from .definition import steps_by_id

STALE_AFTER = timedelta(minutes=30)  # a run the visitor left without ending the chat


def flow_report(flow: Flow) -> dict:
    runs = FlowRun.objects.filter(version__flow=flow)
    stale_before = timezone.now() - STALE_AFTER
    by_status = dict(runs.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    stale = runs.filter(status=RunStatus.ACTIVE, updated_at__lt=stale_before).count()
    resolved = by_status.get(RunStatus.RESOLVED, 0)
    handoff = by_status.get(RunStatus.HANDOFF, 0)
    abandoned = by_status.get(RunStatus.ABANDONED, 0) + stale
    finished = resolved + handoff + abandoned
    entries = dict(StepVisit.objects.filter(run__version__flow=flow).values("step").annotate(n=Count("id")).values_list("step", "n"))
    dropped = dict(
        runs.filter(status=RunStatus.ABANDONED).values("step").annotate(n=Count("id")).values_list("step", "n")
    )
    for step, n in runs.filter(status=RunStatus.ACTIVE, updated_at__lt=stale_before).values("step").annotate(n=Count("id")).values_list("step", "n"):
        dropped[step] = dropped.get(step, 0) + n
    version = flow.live_version()
    steps = list(steps_by_id(version.definition).values()) if version else []
    known = {s["id"] for s in steps}
    rows = [{"id": s["id"], "type": s["type"], "text": s.get("text", ""), "entries": entries.get(s["id"], 0), "dropoffs": dropped.get(s["id"], 0)} for s in steps]
    # Steps only older versions had still count.
    rows += [{"id": sid, "type": "", "text": "", "entries": n, "dropoffs": dropped.get(sid, 0), "old": True} for sid, n in sorted(entries.items()) if sid not in known]
    return {
        "runs": runs.count(),
        "active": by_status.get(RunStatus.ACTIVE, 0) - stale,
        "resolved": resolved,
        "handoff": handoff,
        "abandoned": abandoned,
        "deflection": (resolved / finished) if finished else None,
        "steps": rows,
    }
