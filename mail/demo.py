"""Demo data for mail: a Support mailbox, polling switched off (there is no demo IMAP server)."""

from __future__ import annotations

from tickets.models import Team

from .models import Mailbox


def seed(stdout) -> None:
    if Mailbox.objects.exists():
        return
    team = Team.objects.filter(name="Support").first()
    Mailbox.objects.create(
        name="Support",
        email_address="support@example.com",
        team=team,
        active=False,
        imap_host="imap.example.com",
        imap_port=993,
        imap_security="ssl",
        imap_username="support@example.com",
        imap_folder="INBOX",
    )
    stdout.write("mail: demo mailbox support@example.com added (polling off: set its IMAP server and switch it on in the admin)\n")
