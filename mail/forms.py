"""Admin form for mailboxes: secrets are write-only (an empty field keeps the stored value)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Mailbox


class MailboxForm(forms.ModelForm):
    imap_password = forms.CharField(
        label=_("IMAP password"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Stored encrypted. Leave empty to keep the current password."),
    )
    smtp_url = forms.CharField(
        label=_("SMTP URL"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("smtp://user:password@host:port, smtp+tls:// or smtps://. Stored encrypted. Leave empty to keep the current value."),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name", "email_address", "team", "active", "imap_host", "imap_port", "imap_security", "imap_username",
            "imap_password", "imap_folder", "processed_folder", "use_idle", "poll_interval", "max_message_bytes",
            "smtp_url",
        ]  # fmt: skip

    def clean_imap_password(self) -> str:
        value = self.cleaned_data.get("imap_password") or ""
        return value or (self.instance.imap_password if self.instance.pk else "")

    def clean_smtp_url(self) -> str:
        value = (self.cleaned_data.get("smtp_url") or "").strip()
        return value or (self.instance.smtp_url if self.instance.pk else "")
