"""Periodic jobs of assist (merged into CELERY_BEAT_SCHEDULE by the settings)."""

BEAT = {
    # Learn team and tags from the tickets agents handled since the last run.
    "assist-train-classifiers": {"task": "assist.tasks.train_classifiers", "schedule": 6 * 3600.0},
    # The index follows events one row at a time; a nightly rebuild repairs anything a crash lost.
    "assist-rebuild-index": {"task": "assist.tasks.rebuild_index", "schedule": 24 * 3600.0},
}
