"""Demo data (CONTRACT): teams, agents, customers, tickets on every channel; `--tickets N` for benchmarks.

Feature apps add their own demo data in `<app>/demo.py` with `seed(stdout) -> None`; it runs after the core.
"""

from __future__ import annotations

import random
from datetime import timedelta
from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from tickets.crypto import blind_index
from tickets.inbound import InboundMessage
from tickets.models import (
    AgentProfile,
    Channel,
    Contact,
    ContactIdentity,
    Message,
    Role,
    Status,
    Team,
    Ticket,
)
from tickets.services import ingest

PASSWORD = "demo"  # noqa: S105 - demo logins only, printed by ./run
AGENTS = [("alice", "Alice", "Andersson", "Support"), ("bob", "Bob", "Berg", "Support"), ("carol", "Carol", "Castro", "Billing"), ("dave", "Dave", "Dufresne", "Billing")]
FIRST = ["Aino", "Ben", "Chloe", "Daniel", "Eero", "Fatima", "Gustav", "Hanna", "Ines", "Juho", "Kaisa", "Liam", "Maria", "Noah", "Olivia", "Pekka", "Quentin", "Riikka", "Sofia", "Tomás"]
LAST = ["Virtanen", "Smith", "García", "Korhonen", "Müller", "Nieminen", "Rossi", "Laine", "Dubois", "Heikkinen"]
TOPICS = [
    ("Can't log in after password reset", "Hi, I reset my password but the login page still says invalid credentials."),
    ("Invoice shows the wrong amount", "My latest invoice charges me twice for the same month. Can you check?"),
    ("How do I export my data?", "Is there a way to export all my orders to CSV?"),
    ("Order hasn't arrived", "I ordered a week ago and tracking hasn't updated since Monday."),
    ("Change billing address", "We moved offices; please update the billing address on our account."),
    ("App crashes on startup", "The mobile app closes right after the splash screen on Android 14."),
    ("Refund request", "I'd like a refund for the annual plan, we bought it by mistake."),
    ("Two-factor codes not arriving", "I don't get the SMS code when logging in."),
]
CHANNEL_KIND = {Channel.CHAT: "visitor", Channel.EMAIL: "email", Channel.SMS: "phone", Channel.WHATSAPP: "whatsapp", Channel.VOICE: "phone", Channel.MESSENGER: "messenger"}


class Command(BaseCommand):
    help = "Load demo data (once). With --tickets N, add N tickets in bulk for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=0, help="add N bulk tickets (benchmarks)")
        parser.add_argument("--if-empty", action="store_true", help="do nothing when demo data exists")

    def handle(self, *args, tickets: int = 0, if_empty: bool = False, **options):
        if if_empty and Team.objects.filter(name="Support").exists():
            self.stdout.write("Demo data already loaded.")
            return
        teams = self._people()
        if not Ticket.objects.exists() or not if_empty:
            self._conversations(teams)
        for module in _feature_demo_modules():
            module.seed(self.stdout)
        if tickets:
            bulk_tickets(tickets, teams=list(teams.values()), stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready. Logins: admin / alice / bob / carol / dave, password 'demo'."))

    def _people(self) -> dict[str, Team]:
        User = get_user_model()
        teams = {name: Team.objects.get_or_create(name=name)[0] for name in ("Support", "Billing")}
        admin, created = User.objects.get_or_create(username="admin", defaults={"is_staff": True, "is_superuser": True, "first_name": "Ada", "last_name": "Admin", "email": "admin@example.com"})
        if created:
            admin.set_password(PASSWORD)
            admin.save()
        AgentProfile.objects.get_or_create(user=admin, defaults={"role": Role.ADMIN, "availability": "online"})
        for username, first, last, team in AGENTS:
            user, created = User.objects.get_or_create(username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@example.com", "is_staff": False})
            if created:
                user.set_password(PASSWORD)
                user.save()
            AgentProfile.objects.get_or_create(user=user, defaults={"role": Role.SUPERVISOR if username == "alice" else Role.AGENT})
            teams[team].members.add(user)
        return teams

    def _conversations(self, teams: dict[str, Team]) -> None:
        rng = random.Random(42)  # noqa: S311 - demo data
        channels = list(Channel.values)
        agents = list(get_user_model().objects.filter(username__in=[a[0] for a in AGENTS]))
        now = timezone.now()
        for i in range(40):
            name = f"{FIRST[i % len(FIRST)]} {LAST[(i * 7) % len(LAST)]}"
            channel = channels[i % len(channels)]
            subject, text = TOPICS[i % len(TOPICS)]
            team = teams["Billing" if "nvoice" in subject or "efund" in subject or "billing" in subject else "Support"]
            kind = CHANNEL_KIND[channel]
            address = _demo_address(kind, i, name)
            when = now - timedelta(hours=rng.randint(1, 240), minutes=rng.randint(0, 59))
            message = ingest(
                InboundMessage(
                    channel=channel,
                    external_id=f"demo-{channel}-{i}",
                    sender_kind=kind,
                    sender_address=address,
                    sender_name=name,
                    subject=subject if channel == Channel.EMAIL else "",
                    text=text if channel != Channel.VOICE else f"Voicemail: {text}",
                    team_id=team.pk,
                    received_at=when,
                    meta={"call": {"duration": rng.randint(20, 300), "outcome": "voicemail"}} if channel == Channel.VOICE else {},
                )
            )
            ticket = message.ticket
            if i % 3 == 0:
                agent = rng.choice([a for a in agents if team.members.filter(pk=a.pk).exists()])
                ticket.assignee = agent
                ticket.save(update_fields=["assignee"])
                with transaction.atomic():
                    Message.objects.create(ticket=ticket, direction="outbound", channel=channel, author_agent=agent, text=f"Hi {name.split()[0]}, thanks for reaching out. I'm looking into this now.", delivery_status="delivered", created_at=when + timedelta(minutes=rng.randint(2, 50)))
                    Ticket.objects.filter(pk=ticket.pk).update(status=Status.OPEN, first_response_at=when + timedelta(minutes=5), unread=False)
            if i % 5 == 4:
                Ticket.objects.filter(pk=ticket.pk).update(status=Status.RESOLVED, resolved_at=when + timedelta(hours=3))


def _demo_address(kind: str, i: int, name: str) -> str:
    if kind == "email":
        return f"{name.split()[0].lower()}.{i}@example.org"
    if kind in ("phone", "whatsapp"):
        return f"+1202555{i:04d}"
    if kind == "messenger":
        return f"{7000000000000000 + i}"
    return f"demo-visitor-{i}"


def _feature_demo_modules() -> list:
    modules = []
    for app in settings.LOCAL_APPS:
        if app == "tickets":
            continue
        try:
            modules.append(import_module(f"{app}.demo"))
        except ModuleNotFoundError as exc:
            if exc.name != f"{app}.demo":
                raise
    return modules


def bulk_tickets(count: int, *, teams: list[Team], stdout, batch: int = 5000) -> None:
    """N tickets with one inbound message each, spread over contacts, channels, teams and statuses."""
    rng = random.Random(7)  # noqa: S311 - benchmark data
    contacts_needed = max(1, min(count // 20, 50_000))
    stdout.write(f"Creating {contacts_needed} contacts…")
    start = Contact.objects.count()
    contacts = []
    for i in range(contacts_needed):
        email = f"bulk{start + i}@example.net"
        contacts.append(Contact(name=f"Customer {start + i}", email=email, email_hash=blind_index(email)))
    contacts = Contact.objects.bulk_create(contacts, batch_size=2000)
    ContactIdentity.objects.bulk_create(
        [ContactIdentity(contact=c, kind="email", address=c.email, address_hash=c.email_hash) for c in contacts], batch_size=2000
    )
    statuses = [Status.NEW, Status.OPEN, Status.PENDING, Status.RESOLVED, Status.CLOSED, Status.CLOSED, Status.RESOLVED]
    channels = list(Channel.values)
    now = timezone.now()
    made = 0
    while made < count:
        size = min(batch, count - made)
        tickets = []
        for _ in range(size):
            created = now - timedelta(minutes=rng.randint(0, 60 * 24 * 365))
            tickets.append(
                Ticket(
                    subject=rng.choice(TOPICS)[0],
                    status=rng.choice(statuses),
                    channel=rng.choice(channels),
                    contact=rng.choice(contacts),
                    team=rng.choice(teams),
                    created_at=created,
                    updated_at=created,
                    last_message_at=created + timedelta(minutes=rng.randint(0, 600)),
                    last_customer_message_at=created,
                    first_response_at=created + timedelta(minutes=rng.randint(1, 240)) if rng.random() < 0.8 else None,
                )
            )
        with transaction.atomic():
            tickets = Ticket.objects.bulk_create(tickets, batch_size=size)
            Message.objects.bulk_create(
                [Message(ticket=t, direction="inbound", channel=t.channel, author_contact_id=t.contact_id, text=rng.choice(TOPICS)[1], created_at=t.created_at) for t in tickets],
                batch_size=size,
            )
        made += size
        if made % 100_000 == 0 or made == count:
            stdout.write(f"  {made} tickets")
