"""Reports have no tables of their own: this unmanaged model only gives them a place in the admin index."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Report(models.Model):
    class Meta:
        managed = False
        db_table = "reports_report_unused"
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        default_permissions = ("view",)

    def __str__(self) -> str:
        return str(self._meta.verbose_name)
