"""Facebook pages connected to the desk. The page access token is encrypted at rest and never returned."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField
from tickets.models import Team


class MessengerPage(models.Model):
    page_id = models.CharField(_("page id"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="messenger_pages", verbose_name=_("team"))
    access_token = EncryptedTextField(_("page access token"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["name", "page_id"]
        verbose_name = _("Messenger page")
        verbose_name_plural = _("Messenger pages")

    def __str__(self) -> str:
        return self.name or self.page_id
