"""Customer insights: agents' notes on a contact, the merge audit trail, and a keyed name-token index.

Contact names are encrypted at rest (tickets.crypto); `NameToken` stores keyed hashes (blind indexes) of the
prefixes of each word of a contact's name and email, so the directory can find "Matti Meikäläinen" from "meik"
without any plaintext name in the database.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from tickets.crypto import EncryptedTextField


class ContactNote(models.Model):
    contact = models.ForeignKey("tickets.Contact", on_delete=models.CASCADE, related_name="notes", verbose_name=_("contact"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    # Notes about a person are personal data: encrypted like the contact's own fields.
    text = EncryptedTextField(_("note"))
    client_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("contact note")
        verbose_name_plural = _("contact notes")
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"], condition=~models.Q(client_id=""), name="contactnote_unique_client_id"
            )
        ]

    def __str__(self) -> str:
        return f"note on {self.contact_id}"


class ContactMerge(models.Model):
    """Audit row: `source` was found to be the same person as `target` and merged into it."""

    source = models.ForeignKey("tickets.Contact", on_delete=models.CASCADE, related_name="+", verbose_name=_("merged contact"))
    target = models.ForeignKey("tickets.Contact", on_delete=models.CASCADE, related_name="+", verbose_name=_("kept contact"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("merged by")
    )
    moved = models.JSONField(_("moved rows"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("contact merge")
        verbose_name_plural = _("contact merges")

    def __str__(self) -> str:
        return f"{self.source_id} → {self.target_id}"


class NameToken(models.Model):
    contact = models.ForeignKey("tickets.Contact", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["token_hash", "contact"], name="nametoken_unique")]
        verbose_name = _("name token")
        verbose_name_plural = _("name tokens")

    def __str__(self) -> str:
        return f"token of {self.contact_id}"
