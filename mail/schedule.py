"""Celery beat entries of the mail app (plain data; read by helpdesk.settings)."""

BEAT = {
    # Each mailbox has its own interval (default 60 s); this only looks for the ones that are due.
    "mail-poll-due": {"task": "mail.tasks.poll_due", "schedule": 10.0},
}
