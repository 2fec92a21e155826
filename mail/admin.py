"""Mailboxes in the admin, with a "test connection" action that says what is wrong."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from .forms import MailboxForm
from .imap import ImapError, test_connection
from .models import Mailbox


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    form = MailboxForm
    list_display = ["name", "email_address", "team", "active", "imap_host", "last_polled_at", "short_error"]
    list_filter = ["active", "team", "imap_security"]
    search_fields = ["name", "email_address", "imap_host"]
    list_select_related = ["team"]
    readonly_fields = ["smtp_url_shown", "uidvalidity", "last_uid", "last_polled_at", "last_error"]
    actions = ["test_connection_action", "poll_now_action"]
    fieldsets = [
        (None, {"fields": ["name", "email_address", "team", "active"]}),
        (_("IMAP"), {"fields": ["imap_host", "imap_port", "imap_security", "imap_username", "imap_password", "imap_folder", "processed_folder", "use_idle", "poll_interval", "max_message_bytes"]}),
        (_("Replies (SMTP)"), {"fields": ["smtp_url", "smtp_url_shown"]}),
        (_("State"), {"fields": ["uidvalidity", "last_uid", "last_polled_at", "last_error"]}),
    ]

    @admin.display(description=_("current SMTP URL"))
    def smtp_url_shown(self, obj: Mailbox) -> str:
        return obj.smtp_url_display or "-"

    @admin.display(description=_("last error"))
    def short_error(self, obj: Mailbox) -> str:
        return (obj.last_error or "")[:80]

    @admin.action(description=_("Test the IMAP connection"))
    def test_connection_action(self, request, queryset) -> None:
        for mailbox in queryset:
            try:
                report = test_connection(mailbox)
            except ImapError as exc:
                self.message_user(request, f"{mailbox.name}: {exc}", level=messages.ERROR)
            else:
                self.message_user(request, f"{mailbox.name}: {report}", level=messages.SUCCESS)

    @admin.action(description=_("Poll now"))
    def poll_now_action(self, request, queryset) -> None:
        from .tasks import poll_mailbox

        for mailbox in queryset:
            poll_mailbox.delay(mailbox.pk)
        self.message_user(request, _("Polling was queued."), level=messages.SUCCESS)
