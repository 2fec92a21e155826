"""Periodic jobs of workflows (merged into CELERY_BEAT_SCHEDULE by the settings)."""

BEAT = {
    "workflows-check-sla": {"task": "workflows.tasks.check_sla", "schedule": 60.0},
    "workflows-idle-customers": {"task": "workflows.tasks.check_idle_customers", "schedule": 60.0},
    "workflows-prune-logs": {"task": "workflows.tasks.prune_logs", "schedule": 24 * 3600.0},
}
